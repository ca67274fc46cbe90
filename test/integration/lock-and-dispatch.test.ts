import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_YAML,
  mockCiState,
  mockCompare,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockMergeContext,
  mockPullFiles,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

const SECOND_SHA = "fedcba9876543210fedcba9876543210fedcba98";

describe("two merges that deploy the same component", () => {
  it("makes the second wait for the first and run when the lock is free", async () => {
    const harness = await createHarness();
    const first = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await harness.deliver("pull_request", mergedPullRequest());

    const second = [
      mockRepoConfig(CONFIG_YAML),
      mockPullFiles(8, ["server/main.go"]),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(SECOND_SHA),
    ];
    await harness.deliver("pull_request", mergedPullRequest({ number: 8, sha: SECOND_SHA }));
    for (const scope of [...first, ...second]) expect(scope.isDone()).toBe(true);

    const secondId = threadIdForMerge(`${OWNER}/${REPO}`, 8, SECOND_SHA);
    const waiting = await harness.store.getThreadSummary(secondId);
    expect(waiting?.status).toBe("waiting_for_lock");
    expect(waiting?.waitingOn).toBe(`lock ${OWNER}/${REPO}:backend:staging`);

    const afterRelease = [
      // The first merge now runs in staging: the second is checked not to be older than it.
      mockCompare(MERGE_SHA, SECOND_SHA, "ahead"),
      mockCreateDeployment(1003, { sha: SECOND_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5003),
    ];
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    for (const scope of afterRelease) expect(scope.isDone()).toBe(true);
    expect((await harness.store.getThreadSummary(secondId))?.status).toBe("waiting_for_deploy");
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toMatchObject({
      threadId: secondId,
    });
  });
});

describe("dispatching a deploy workflow", () => {
  async function mergeUntilDispatch() {
    const harness = await createHarness();
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
    ];
    return { harness, scopes };
  }
  const dispatchPath = `/repos/${OWNER}/${REPO}/actions/workflows/deploy-backend.yml/dispatches`;

  it("falls back to a plain dispatch where the server refuses return_run_details", async () => {
    const { harness, scopes } = await mergeUntilDispatch();
    const bodies: Record<string, unknown>[] = [];
    const dispatch = nock(API)
      .post(dispatchPath, (body: Record<string, unknown>) => bodies.push(body) > 0)
      .reply(422, { message: "Invalid request. return_run_details is not a permitted key." })
      .post(dispatchPath, (body: Record<string, unknown>) => bodies.push(body) > 0)
      .reply(204);

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...scopes, dispatch]) expect(scope.isDone()).toBe(true);
    expect(bodies.map((b) => "return_run_details" in b)).toEqual([true, false]);
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    expect(thread.events.at(-1)).toMatchObject({ type: "deploy_dispatched", data: { run_id: null } });
  });

  it("ends the step as failed, marks the deployment, and frees the lock when the workflow cannot be dispatched", async () => {
    const { harness, scopes } = await mergeUntilDispatch();
    const statuses: Record<string, unknown>[] = [];
    const github = nock(API)
      .post(dispatchPath)
      .reply(404, { message: "Not Found" })
      .post(
        `/repos/${OWNER}/${REPO}/deployments/1001/statuses`,
        (body: Record<string, unknown>) => statuses.push(body) > 0,
      )
      .reply(201, { id: 1 });

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...scopes, github]) expect(scope.isDone()).toBe(true);
    expect(statuses[0]).toMatchObject({ state: "error" });
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    const finished = thread.events.find((e) => e.type === "deploy_finished");
    expect(finished?.data).toMatchObject({ outcome: "failure", source: "dispatch" });
    expect(JSON.stringify(finished?.data)).toContain("HTTP 404");
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toBeNull();
    expect(await harness.store.getDeployment(1001)).toMatchObject({ state: "failure" });
  });

  it("retries later, changing nothing, when GitHub answers 5xx", async () => {
    const { harness, scopes } = await mergeUntilDispatch();
    const dispatch = nock(API).post(dispatchPath).reply(502, { message: "Bad gateway" });

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...scopes, dispatch]) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    expect(thread.events.at(-1)).toMatchObject({ type: "service_unavailable", data: { service: "github" } });
    const summary = await harness.store.getThreadSummary(thread.id);
    expect(summary?.waitingOn).toContain(
      "GitHub to answer again (dispatch of deploy-backend.yml failed (HTTP 502)",
    );
    expect(await harness.store.inboxCounts()).toMatchObject({ queued: 1 });

    // On the retry it is unknown whether the first dispatch went out: the runs are checked first.
    const runs = mockWorkflowRuns([]);
    const retried = mockDispatch("deploy-backend.yml", 5001);
    harness.now.value = new Date(harness.now.value.getTime() + 60_000);
    await harness.runWorker();
    expect(runs.isDone()).toBe(true);
    expect(retried.isDone()).toBe(true);
    const resumed = (await harness.store.getThread(thread.id))!;
    expect(resumed.events.at(-1)?.type).toBe("deploy_dispatched");
    expect(resumed.events.filter((e) => e.type === "deployment_created")).toHaveLength(1);
  });

  it("does not dispatch again after a crash when the earlier dispatch's run exists", async () => {
    const { harness, scopes } = await mergeUntilDispatch();
    // The dispatch reached GitHub, but the process died before recording it (seen here as a timeout).
    const lost = nock(API)
      .post(dispatchPath)
      .replyWithError({ code: "ECONNRESET", message: "socket hang up" });
    await harness.deliver("pull_request", mergedPullRequest());
    const runs = mockWorkflowRuns([
      { id: 5001, display_title: "deploy backend 0123456 to staging (deployment 1001)" },
    ]);

    harness.now.value = new Date(harness.now.value.getTime() + 60_000);
    await harness.runWorker();

    for (const scope of [...scopes, lost, runs]) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    expect(thread.events.at(-1)).toMatchObject({ type: "deploy_dispatched", data: { run_id: 5001 } });
  });
});

function mockWorkflowRuns(runs: { id: number; display_title: string }[]) {
  return nock(API)
    .get(`/repos/${OWNER}/${REPO}/actions/workflows/deploy-backend.yml/runs`)
    .query({ event: "workflow_dispatch", per_page: "50" })
    .reply(200, {
      total_count: runs.length,
      workflow_runs: runs.map((r) => ({
        ...r,
        html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${r.id}`,
      })),
    });
}
