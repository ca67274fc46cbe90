import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { recoverThreads } from "../../src/worker/sweeps.js";
import { deriveState } from "../../src/thread/state.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OLD_SHA, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_YAML,
  mockCiState,
  mockCompare,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockPullFiles,
  mockRepoConfig,
  type DeploymentBody,
} from "../helpers/github-mocks.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const repoPath = `/repos/${OWNER}/${REPO}`;
const idOf = (number: number, sha: string) => threadIdForMerge(`${OWNER}/${REPO}`, number, sha);
const SHA_8 = "8888888888888888888888888888888888888888";
const SHA_9 = "9999999999999999999999999999999999999999";

async function mergeAndDispatch(
  harness: Harness,
  options: {
    number?: number;
    sha?: string;
    history?: Parameters<typeof mockDeploymentHistory>[1];
    token?: boolean;
    deploymentId?: number;
  } = {},
) {
  const number = options.number ?? 7;
  const sha = options.sha ?? MERGE_SHA;
  const scopes = [
    ...(options.token === false ? [] : [mockInstallationToken()]),
    mockRepoConfig(CONFIG_YAML),
    mockPullFiles(number, ["api/cart.ts"]),
    mockDeploymentHistory(["staging", "production"], options.history),
    mockCiState(sha),
    // A commit already running in staging: the merge is checked not to be older than it.
    ...(options.history?.staging?.some((d) => d.success && d.component === "backend")
      ? [mockCompare(options.history.staging.find((d) => d.success)!.sha, sha, "ahead")]
      : []),
    ...(options.deploymentId
      ? [
          mockCreateDeployment(options.deploymentId, { sha, environment: "staging" }),
          mockDispatch("deploy-backend.yml", options.deploymentId + 4000),
        ]
      : []),
  ];
  await harness.deliver("pull_request", mergedPullRequest({ number, sha }));
  return scopes;
}

describe("a failed deploy", () => {
  it("is compacted from the run's failed job and log, and rolled back to the last good commit", async () => {
    const harness = await createHarness();
    const scopes = await mergeAndDispatch(harness, {
      deploymentId: 1001,
      history: { staging: [{ id: 900, sha: OLD_SHA, component: "backend", success: true }] },
    });
    const rollbackBodies: DeploymentBody[] = [];
    const github = nock(API)
      .get(`${repoPath}/actions/runs/5001/jobs`)
      .query({ filter: "latest", per_page: "50" })
      .reply(200, {
        total_count: 2,
        jobs: [
          { id: 76, name: "build", conclusion: "success", steps: [] },
          {
            id: 77,
            name: "deploy",
            conclusion: "failure",
            steps: [
              { name: "Check out", conclusion: "success", number: 1 },
              { name: "Deploy", conclusion: "failure", number: 2 },
            ],
          },
        ],
      })
      .get(`${repoPath}/actions/jobs/77/logs`)
      .reply(
        200,
        "2026-11-24T12:00:05.0000000Z Error: connect ECONNREFUSED 10.0.0.5:5432\n2026-11-24T12:00:05.0000001Z     at TCPConnectWrap.afterConnect (node:net:1555:16)\n",
        { "content-type": "text/plain" },
      );
    const rollback = [
      mockCreateDeployment(1002, { sha: OLD_SHA, environment: "staging" }, rollbackBodies),
      mockDispatch("deploy-backend.yml", 5002),
    ];

    await harness.deliver(
      "deployment_status",
      deploymentStatus({ deploymentId: 1001, state: "failure", description: "deploy script failed" }),
    );

    for (const scope of [...scopes, github, ...rollback]) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(idOf(7, MERGE_SHA)))!;
    const failed = thread.events.find((e) => e.type === "deploy_finished")!;
    expect(failed.data).toMatchObject({ outcome: "failure", source: "deployment_status" });
    const summary = failed.type === "deploy_finished" ? failed.data.summary : "";
    expect(summary).toContain('job "deploy", step "Deploy" failure');
    expect(summary).toContain("ECONNREFUSED");
    expect(summary).not.toContain("TCPConnectWrap");
    const rollbackDecision = thread.events.find(
      (e) => e.type === "decision" && e.data.step.intent === "rollback",
    );
    expect(rollbackDecision?.type === "decision" && rollbackDecision.data.step).toMatchObject({
      to_sha: OLD_SHA,
      environment: "staging",
    });
    expect(rollbackBodies[0]).toMatchObject({ ref: OLD_SHA, environment: "staging" });
  });

  it("times out without a final status after the environment's deploy_timeout", async () => {
    const harness = await createHarness();
    const scopes = [
      ...(await mergeAndDispatchWithDeploy(harness)),
      nock(API)
        .post(`${repoPath}/deployments/1001/statuses`, (body: { state: string }) => body.state === "error")
        .reply(201, { id: 1 }),
    ];

    harness.now.value = new Date(harness.now.value.getTime() + 29 * 60_000);
    await recoverThreads(harness.worker);
    expect((await harness.store.getThreadSummary(idOf(7, MERGE_SHA)))?.status).toBe("waiting_for_deploy");

    harness.now.value = new Date(harness.now.value.getTime() + 2 * 60_000);
    await recoverThreads(harness.worker);

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(idOf(7, MERGE_SHA)))!;
    expect(thread.events.find((e) => e.type === "deploy_finished")?.data).toMatchObject({
      outcome: "failure",
      source: "timeout",
    });
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toBeNull();
    expect(await harness.store.getDeployment(1001)).toMatchObject({ state: "failure" });
  });
});

async function mergeAndDispatchWithDeploy(harness: Harness) {
  return mergeAndDispatch(harness, { deploymentId: 1001 });
}

describe("merges queued behind a running deploy", () => {
  it("deploy only the newest waiting commit, and say why the older one was skipped", async () => {
    const harness = await createHarness();
    const first = await mergeAndDispatchWithDeploy(harness);
    harness.now.value = new Date(harness.now.value.getTime() + 60_000);
    const queued = await mergeAndDispatch(harness, { number: 8, sha: SHA_8, token: false });
    harness.now.value = new Date(harness.now.value.getTime() + 60_000);
    queued.push(...(await mergeAndDispatch(harness, { number: 9, sha: SHA_9, token: false })));
    expect((await harness.store.getThreadSummary(idOf(8, SHA_8)))?.status).toBe("waiting_for_lock");
    expect((await harness.store.getThreadSummary(idOf(9, SHA_9)))?.status).toBe("waiting_for_lock");
    const newest = [
      mockCompare(MERGE_SHA, SHA_9, "ahead"),
      mockCreateDeployment(1009, { sha: SHA_9, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5009),
    ];

    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    for (const scope of [...first, ...queued, ...newest]) expect(scope.isDone()).toBe(true);
    const older = (await harness.store.getThread(idOf(8, SHA_8)))!;
    expect(deriveState(older.events).status).toBe("done");
    expect(older.events.at(-1)).toMatchObject({ type: "done", data: { by: "code" } });
    expect(JSON.stringify(older.events.at(-1))).toContain("Superseded by #9");
    expect(older.events.some((e) => e.type === "deploy_authorized")).toBe(false);
    expect((await harness.store.getThreadSummary(idOf(9, SHA_9)))?.status).toBe("waiting_for_deploy");
  });
});

describe("a lock left behind by a crash", () => {
  it("is released once its holder never recorded the step, so the next deploy is not stuck", async () => {
    const harness = await createHarness();
    // A process died between taking the lock and recording the step: nothing in flight holds it.
    await harness.store.acquireLock(
      `${OWNER}/${REPO}:backend:staging`,
      { threadId: "th_crashed", stepSeq: 9 },
      new Date(harness.now.value.getTime() - 5 * 60_000),
    );

    const scopes = await mergeAndDispatchWithDeploy(harness);

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toMatchObject({
      threadId: idOf(7, MERGE_SHA),
    });
    expect(harness.log.lines.some((l) => l.includes("was left by a step that never ran"))).toBe(true);
  });

  it("is respected while it is fresh: the step waits", async () => {
    const harness = await createHarness();
    await harness.store.acquireLock(
      `${OWNER}/${REPO}:backend:staging`,
      { threadId: "th_starting", stepSeq: 9 },
      new Date(harness.now.value.getTime() - 5_000),
    );

    const scopes = await mergeAndDispatch(harness);

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect((await harness.store.getThreadSummary(idOf(7, MERGE_SHA)))?.status).toBe("waiting_for_lock");
  });
});
