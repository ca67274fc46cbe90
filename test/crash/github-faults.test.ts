import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import { CONFIG_NO_APPROVAL_YAML } from "../helpers/github-mocks.js";
import { assertNoDotEnv, waitFor } from "./app-process.js";
import type { RecordedRequest } from "./fake-server.js";
import {
  endScenario,
  isCreateDeployment,
  isDispatch,
  mergeShaOf,
  replicaScenario,
  type ReplicaScenario,
} from "./replica-set.js";

/**
 * A GitHub that performs a write and loses its answer (a 502, a dropped connection), and a GitHub
 * that hangs for one repository, with deploybot as a real process on PostgreSQL. A write whose
 * answer is lost must not be sent again blindly, and one slow repository must not hold up another.
 */

const SHOP = `${OWNER}/${REPO}`;
const SITE = `${OWNER}/site`;

let scenario: ReplicaScenario | undefined;

beforeAll(() => assertNoDotEnv());

afterEach(async () => {
  const current = scenario;
  scenario = undefined;
  await endScenario(current);
});

function merge(repo: string, number: number): Record<string, unknown> {
  return mergedPullRequest({ repo, number, sha: mergeShaOf(repo, number) });
}

/** Every step deployed once, every deployment run once and ended, every thread done. */
async function expectExactlyOnce(s: ReplicaScenario, threads: number): Promise<void> {
  const settling = await s.set.settled(threads, 90_000).then(
    () => null,
    (error: unknown) => error,
  );
  const problems = s.set.exactlyOnceProblems();
  expect
    .soft(problems, `exactly once, broken:\n${problems.join("\n")}\n${await s.set.describe()}`)
    .toEqual([]);
  expect.soft((await s.database.inboxCounts()).dead ?? 0, "inbox entries given up on").toBe(0);
  if (settling) throw settling;
  expect(s.github.unmatched.map((r) => `${r.method} ${r.path}`)).toEqual([]);
}

describe("a GitHub write performed and its answer lost", () => {
  const cases: {
    write: string;
    match: (request: RecordedRequest) => boolean;
    how: "502" | "reset";
  }[] = [
    { write: "POST /deployments", match: isCreateDeployment, how: "502" },
    { write: "POST /deployments", match: isCreateDeployment, how: "reset" },
    { write: "the workflow dispatch", match: isDispatch, how: "502" },
    { write: "the workflow dispatch", match: isDispatch, how: "reset" },
  ];

  it.each(cases)(
    "$write answered $how: one deployment and one run per step, and the thread ends",
    async ({ match, how }) => {
      const s = await replicaScenario({
        prefix: "lost",
        repos: [{ fullName: SHOP, configYaml: CONFIG_NO_APPROVAL_YAML, files: ["api/cart.ts"] }],
      });
      scenario = s;
      const lost = s.github.addFault(`answer lost: ${how}`, match, { kind: "lose", how }, 1);
      await s.set.start(0);
      s.set.drive();

      await s.set.webhook("pull_request", merge(SHOP, 7));
      await expectExactlyOnce(s, 1);

      expect(lost.hits, "requests whose answer was lost").toHaveLength(1);
      expect(s.github.deployments.map((d) => d.environment)).toEqual(["staging", "production"]);
      expect(s.github.dispatches).toHaveLength(2);
    },
    120_000,
  );
});

describe("a GitHub that hangs for one repository", () => {
  it("does not keep another repository's deploy from being dispatched", async () => {
    const s = await replicaScenario({
      prefix: "hang",
      repos: [
        { fullName: SHOP, configYaml: CONFIG_NO_APPROVAL_YAML, files: ["api/cart.ts"] },
        { fullName: SITE, configYaml: CONFIG_NO_APPROVAL_YAML, files: ["api/cart.ts"] },
      ],
    });
    scenario = s;
    // The shop's calls get no answer until the site's deploy is dispatched: at most 20 s from the
    // first one held, below the app's 30 s request timeout, so a worker that waits for the shop
    // first still finishes, and the order of the dispatches shows it.
    let release: () => void = () => undefined;
    const released = new Promise<void>((done) => (release = done));
    const hang = s.github.addFault(
      "hangs until the site is dispatched",
      (r) => r.path.startsWith(`/api/v3/repos/${SHOP}/`) || r.path === `/api/v3/repos/${SHOP}`,
      { kind: "hold", until: released },
    );
    void (async () => {
      await waitFor("a call for the shop", () => hang.hits.length > 0, { timeoutMs: 60_000 });
      await waitFor("the site's dispatch", () => s.github.dispatchesIn(SITE).length > 0, {
        timeoutMs: 20_000,
      });
    })()
      .catch(() => undefined)
      .finally(release);
    await s.set.start(0);
    s.set.drive();

    await s.set.webhook("pull_request", merge(SHOP, 7));
    await waitFor("deploybot to be inside a call for the shop", () => hang.hits.length > 0, {
      timeoutMs: 30_000,
      context: () => s.set.describe(),
    });
    await s.set.webhook("pull_request", merge(SITE, 8));
    await waitFor(
      "both repositories' staging deploys dispatched",
      () => s.github.dispatchesIn(SHOP).length > 0 && s.github.dispatchesIn(SITE).length > 0,
      { timeoutMs: 90_000, context: () => s.set.describe() },
    );

    const order = s.github.dispatches.map((d) => `${s.github.repoOf(d)} ${d.inputs.environment}`);
    expect(order[0], `the first dispatch; in order:\n${order.join("\n")}\n${await s.set.describe()}`).toBe(
      `${SITE} staging`,
    );
    await expectExactlyOnce(s, 2);
  }, 150_000);
});

describe("a SIGTERM while a GitHub call hangs", () => {
  it("ends the process after its grace period, and the next replica deploys the step once", async () => {
    const s = await replicaScenario({
      prefix: "term",
      repos: [{ fullName: SHOP, configYaml: CONFIG_NO_APPROVAL_YAML, files: ["api/cart.ts"] }],
    });
    scenario = s;
    // Creating the deployment never answers while the first process lives (GitHub does the write).
    let release: () => void = () => undefined;
    const released = new Promise<void>((done) => (release = done));
    const hang = s.github.addFault(
      "the create hangs",
      isCreateDeployment,
      { kind: "hold", until: released, perform: "early" },
      1,
    );
    const first = await s.set.start(0);
    s.set.drive();
    await s.set.webhook("pull_request", merge(SHOP, 7));
    await waitFor("deploybot inside the create", () => hang.hits.length > 0, {
      timeoutMs: 30_000,
      context: () => s.set.describe(),
    });

    // Far below the ~30 s the hanging call alone would hold it (and minutes with retries).
    const exit = await first.terminate(20_000);
    release();
    expect(exit, `the process after SIGTERM:\n${first.describe()}`).toEqual({ code: 0, signal: null });
    expect(first.describe()).toContain("stopping before this entry was handled");

    await s.set.start(1);
    await expectExactlyOnce(s, 1);
    expect(s.github.deployments.map((d) => d.environment)).toEqual(["staging", "production"]);
  }, 150_000);
});
