import { describe, expect, it } from "vitest";
import { factsFromEvents, gatherPolicyFacts } from "../../src/agent/policy-facts.js";
import { rollbackTargetAt, runningAt } from "../../src/thread/versions.js";
import { silentLog } from "../../src/log.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { newEvent } from "../../src/thread/events.js";
import { mockCiState, mockCompare } from "../helpers/github-mocks.js";
import { TestOctokit } from "../helpers/probot.js";
import {
  deployRun,
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  PREVIOUS_SHA,
  rollbackStep,
  START,
  threadWith,
} from "../helpers/thread-builder.js";

const NEWER = "fedcba9876543210fedcba9876543210fedcba98";

describe("the policy's facts from a thread's events", () => {
  it("take what runs at a place from the versions fetched at the start", () => {
    const thread = threadWith([...mergeStart(), on.deployed({ "backend/production": PREVIOUS_SHA })]);
    expect(runningAt(thread.events, "backend", "production")).toEqual({
      sha: PREVIOUS_SHA,
      source: "github",
      pr: null,
    });
  });

  it("prefer this thread's own successful deploy, with its PR, over older versions", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      ...deployRun("backend", "staging"),
    ]);
    expect(runningAt(thread.events, "backend", "staging")).toEqual({
      sha: MERGE_SHA,
      source: "this_thread",
      pr: 7,
    });
  });

  it("prefer deploybot's history when another thread deployed there later", () => {
    const thread = threadWith([...mergeStart(), ...deployRun("backend", "staging")]);
    const running = runningAt(thread.events, "backend", "staging", {
      history: [
        {
          component: "backend",
          environment: "staging",
          sha: NEWER,
          finishedAt: "2026-11-25T09:00:00.000Z",
          threadId: "th_9",
        },
      ],
      prOfThread: { th_9: 9 },
    });
    expect(running).toEqual({ sha: NEWER, source: "deploybot", pr: 9 });
  });

  it("know nothing runs for sure after a deploy there failed", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      ...deployRun("backend", "staging", "failure"),
    ]);
    expect(runningAt(thread.events, "backend", "staging")).toBeNull();
  });

  it("take the good commit before the running one as the rollback target", () => {
    const fetched = newEvent("deployed_versions", {
      entries: [
        {
          component: "backend",
          environment: "production",
          sha: NEWER,
          deployment_id: 5,
          at: START,
          source: "github",
          previous_sha: PREVIOUS_SHA,
        },
      ],
    });
    expect(rollbackTargetAt(threadWith([...mergeStart(), fetched]).events, "backend", "production")).toBe(
      PREVIOUS_SHA,
    );
    const afterOwnDeploy = threadWith([...mergeStart(), fetched, ...deployRun("backend", "production")]);
    expect(rollbackTargetAt(afterOwnDeploy.events, "backend", "production")).toBe(NEWER);
  });

  it("take the last good commit as the rollback target after a deploy there failed", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      ...deployRun("backend", "staging", "failure"),
    ]);
    expect(rollbackTargetAt(thread.events, "backend", "staging")).toBe(PREVIOUS_SHA);
  });

  it("pair each rejection with the step it rejected", () => {
    const step = deployStep("backend", "production");
    const thread = threadWith([
      ...mergeStart(),
      on.approvalRequested(step, "ap_1"),
      on.approvalRejected("frontend first", "ap_1"),
    ]);
    expect(factsFromEvents(thread, step, false).rejected).toEqual([
      { step, reason: "frontend first", by: "U01APPROVER" },
    ]);
  });

  it("read the recorded CI state and comparison of the step's commit", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      on.ci("failure", "1 check; failing: test"),
      newEvent("commits_compared", {
        base: PREVIOUS_SHA,
        head: MERGE_SHA,
        status: "ahead",
        ahead_by: 2,
        behind_by: 0,
      }),
    ]);
    const facts = factsFromEvents(thread, deployStep("backend", "staging"), false);
    expect(facts.ci).toEqual({ sha: MERGE_SHA, state: "failure", summary: "1 check; failing: test" });
    expect(facts.comparison).toEqual({ base: PREVIOUS_SHA, head: MERGE_SHA, status: "ahead" });
  });
});

describe("gathering the policy's facts before judging", () => {
  async function gather(
    events: Parameters<typeof threadWith>[0],
    step = deployStep("backend", "staging"),
    now = START,
  ) {
    const store = new SqliteStore(":memory:");
    await store.migrate();
    const octokit = new TestOctokit({ auth: "ghs_test" });
    const deps = {
      store,
      octokitFor: async () => octokit,
      clock: () => new Date(now),
      log: silentLog,
    };
    return gatherPolicyFacts(deps, threadWith(events), step, false);
  }

  it("looks up CI again when the recorded state is not a recent success, and records a change", async () => {
    const ci = mockCiState(MERGE_SHA, "failure");
    const { facts, observed } = await gather(
      [...mergeStart(), on.ci("pending", "1 check; pending: build")],
      deployStep("backend", "staging"),
      "2026-11-24T12:30:00.000Z",
    );
    expect(ci.isDone()).toBe(true);
    expect(observed).toEqual([
      { type: "ci_state", data: { sha: MERGE_SHA, state: "failure", summary: "2 checks; failing: ci/test" } },
    ]);
    expect(facts.ci?.state).toBe("failure");
  });

  it("asks GitHub nothing when a pending CI was looked up a moment ago", async () => {
    const { facts, observed } = await gather(
      [...mergeStart(), on.ci("pending", "1 check; pending: build")],
      deployStep("backend", "staging"),
      "2026-11-24T12:04:30.000Z",
    );
    expect(observed).toEqual([]);
    expect(facts.ci?.state).toBe("pending");
  });

  it("asks GitHub nothing when CI passed a moment ago and nothing else runs there", async () => {
    const { facts, observed } = await gather([...mergeStart(), on.ci("success")]);
    expect(observed).toEqual([]);
    expect(facts.ci?.state).toBe("success");
    expect(facts.running).toBeNull();
  });

  it("compares the step's commit with the one running there once, and records the answer", async () => {
    const compare = mockCompare(PREVIOUS_SHA, MERGE_SHA, "behind");
    const { facts, observed } = await gather([
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      on.ci("success"),
    ]);
    expect(compare.isDone()).toBe(true);
    expect(observed).toEqual([
      {
        type: "commits_compared",
        data: { base: PREVIOUS_SHA, head: MERGE_SHA, status: "behind", ahead_by: 0, behind_by: 1 },
      },
    ]);
    expect(facts.comparison?.status).toBe("behind");
  });

  it("looks nothing up on GitHub for a rollback", async () => {
    const { observed, facts } = await gather(
      [...mergeStart(), on.deployed({ "backend/staging": MERGE_SHA })],
      rollbackStep("backend", "staging"),
    );
    expect(observed).toEqual([]);
    expect(facts.running?.sha).toBe(MERGE_SHA);
  });
});
