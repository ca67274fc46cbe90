import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { startWorker } from "../../src/worker.js";
import { recoverThreads } from "../../src/worker/sweeps.js";
import { deriveState } from "../../src/thread/state.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockInstallationToken,
  mockMergeContext,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

/** One owner per thread at a time: whatever advances a thread takes its lease first. */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98";

describe("a thread another worker holds", () => {
  it("is left alone: its entry waits untried, and is handled once the other worker lets go", async () => {
    const harness = await createHarness();
    const held = await harness.store.acquireThreadLease(
      THREAD_ID,
      "other-replica#1",
      harness.now.value,
      60_000,
    );
    expect(held).toBe(true);

    await harness.deliver("pull_request", mergedPullRequest());
    expect(await harness.store.getThread(THREAD_ID)).toBeNull();
    expect(await harness.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });

    await harness.store.releaseThreadLease(THREAD_ID, "other-replica#1");
    const scopes = [
      ...mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    harness.now.value = new Date(harness.now.value.getTime() + 1_000);
    await harness.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await harness.store.inboxCounts()).toEqual({ queued: 0, done: 1, dead: 0 });
    const claimed = await harness.store.listThreads({});
    expect(claimed.map((t) => t.status)).toEqual(["waiting_for_deploy"]);
  });

  it("is not taken by the recovery sweep until the other worker's lease runs out", async () => {
    const harness = await createHarness();
    const scopes = [
      ...mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML }),
      // GitHub is down when the deployment is created: the thread is left mid-step.
      nock(API).post(`/repos/${OWNER}/${REPO}/deployments`).reply(503, { message: "unavailable" }),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    await harness.store.acquireThreadLease(THREAD_ID, "other-replica#1", harness.now.value, 60_000);

    expect(await recoverThreads(harness.worker)).toBe(0);
    expect(deriveState((await harness.store.getThread(THREAD_ID))!.events).inFlight?.created).toBeNull();

    // The other worker died: once its lease lapses, the sweep looks for the deployment, then creates it.
    harness.now.value = new Date(harness.now.value.getTime() + 60_000);
    const later = [
      nock(API)
        .get(`/repos/${OWNER}/${REPO}/deployments`)
        .query({ sha: MERGE_SHA, environment: "staging", per_page: "100" })
        .reply(200, []),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    expect(await recoverThreads(harness.worker)).toBe(1);
    for (const scope of later) expect(scope.isDone()).toBe(true);
  });
});

/**
 * The GitHub calls of merge #7: the token and the config answer, its changed files never come back
 * while the test runs (the last scope).
 */
function hangingMerge(): nock.Scope[] {
  return [
    mockInstallationToken(),
    mockRepoConfig(CONFIG_NO_APPROVAL_YAML),
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/pulls/7/files`)
      .query({ per_page: "100" })
      .delay(60_000)
      .reply(200, []),
  ];
}

describe("the worker", () => {
  it("handles several entries at once: a merge whose GitHub calls hang does not hold up the next", async () => {
    const harness = await createHarness();
    const slow = hangingMerge();
    const fast = [
      ...mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML, number: 8, sha: OTHER_SHA, token: false }),
      mockCreateDeployment(1002, { sha: OTHER_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const worker = startWorker({ ...harness.worker, concurrency: 4, clock: () => new Date() });
    try {
      await harness.probot.receive({
        id: "merge-7",
        name: "pull_request",
        payload: mergedPullRequest(),
      } as never);
      await waitFor(() => slowStarted(slow));
      await harness.probot.receive({
        id: "merge-8",
        name: "pull_request",
        payload: mergedPullRequest({ number: 8, sha: OTHER_SHA }),
      } as never);
      const fastThread = threadIdForMerge(`${OWNER}/${REPO}`, 8, OTHER_SHA);
      await waitFor(
        async () => (await harness.store.getThreadSummary(fastThread))?.status === "waiting_for_deploy",
      );
      for (const scope of fast) expect(scope.isDone()).toBe(true);
      // #7 is still reading its changed files: it has no thread yet.
      expect(await harness.store.getThread(THREAD_ID)).toBeNull();
    } finally {
      await worker.stop(0);
      nock.abortPendingRequests();
    }
  });
});

describe("stopping the worker", () => {
  it("stops claiming, lets running work go after the grace period and hands its thread lease back soon", async () => {
    const harness = await createHarness();
    const hanging = hangingMerge();
    const t0 = harness.now.value.getTime();
    const worker = startWorker({ ...harness.worker, concurrency: 2, leaseMs: 60_000 });
    try {
      await harness.probot.receive({
        id: "merge-7",
        name: "pull_request",
        payload: mergedPullRequest(),
      } as never);
      await waitFor(() => hanging.slice(0, 2).every((scope) => scope.isDone()));
      await worker.stop(50);
      // Another worker may take the thread over a few seconds later, not a whole lease later.
      const at = (ms: number) => new Date(t0 + ms);
      expect(await harness.store.acquireThreadLease(THREAD_ID, "next#1", at(1_000), 60_000)).toBe(false);
      expect(await harness.store.acquireThreadLease(THREAD_ID, "next#1", at(6_000), 60_000)).toBe(true);
      expect(await harness.store.claimInbox("next", at(1_000), 60_000)).toBeNull();
      expect(await harness.store.claimInbox("next", at(6_000), 60_000)).toMatchObject({
        deliveryId: "merge-7",
      });
    } finally {
      nock.abortPendingRequests();
    }
  });
});

/** The slow merge has asked for its files (its request hangs). */
function slowStarted(scopes: nock.Scope[]): boolean {
  return scopes.slice(0, -1).every((scope) => scope.isDone());
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
