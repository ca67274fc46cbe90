import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseSince, replayThread } from "../../src/agent/replay.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { deployStep, MERGE_SHA, mergeStart, on, threadWith } from "../helpers/thread-builder.js";

const run = promisify(execFile);

/** A thread whose recorded decision deployed a commit with failed CI, as an older decider did. */
const recordedEvents = [
  ...mergeStart(),
  on.ci("failure", "failing: unit"),
  on.decision(deployStep("backend", "staging")),
  on.policyRefused(deployStep("backend", "staging"), "CI failed"),
  on.decision(deployStep("backend", "staging")),
];

describe("replaying a stored thread", () => {
  it("decides every decision point again from the events known then and judges the new answer", async () => {
    const replayed = await replayThread(threadWith(recordedEvents), createRulesDecider());
    expect(replayed).toHaveLength(2);
    expect(replayed[0]).toMatchObject({
      seq: 5,
      recorded: { step: { intent: "deploy_backend", sha: MERGE_SHA } },
      now: { step: { intent: "ask_human" } },
      same: false,
      verdict: { kind: "allow", reason: null },
    });
  });

  it("reports the same answer as the same, whatever its wording", async () => {
    const replayed = await replayThread(
      threadWith([
        ...mergeStart(),
        on.ci("success"),
        on.decision({ ...deployStep("backend", "staging"), reason: "go" }),
      ]),
      createRulesDecider(),
    );
    expect(replayed.map((r) => r.same)).toEqual([true]);
  });

  it("reads durations for --since and explains a wrong one", () => {
    expect(parseSince("7d")).toBe(7 * 86_400_000);
    expect(parseSince("12h")).toBe(12 * 3_600_000);
    expect(() => parseSince("a week")).toThrow(
      '--since expects a duration such as 30m, 12h or 7d, not "a week"',
    );
  });

  it("runs as npm run replay against the database of DATABASE_URL", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "deploybot-replay-")), "db.sqlite");
    const store = new SqliteStore(file);
    await store.migrate();
    await store.createThread(
      { id: "th_replayed", repo: "acme/shop", installationId: 1, title: "acme/shop#7" },
      threadWith(recordedEvents).events.map(({ type, data }) => ({ type, data }) as never),
      new Date(),
    );
    await store.close();
    const { stdout } = await run("npx", ["tsx", "scripts/replay.ts", "th_replayed"], {
      env: { ...process.env, DATABASE_URL: `sqlite:${file}`, DEPLOYBOT_DECIDER: "rules", OPENAI_API_KEY: "" },
    });
    expect(stdout).toContain("#5 DIFFERS  then: deploy backend 0123456 to staging");
    expect(stdout).toContain("2 decision point(s): 0 same, 2 different, 0 new answer(s) the policy refuses");
  }, 60_000);
});
