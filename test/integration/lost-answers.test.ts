import nock from "nock";
import { describe, expect, it } from "vitest";
import { DeploybotOctokit } from "../../src/github/octokit.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockMergeContext,
  type DeploymentBody,
  type DispatchBody,
} from "../helpers/github-mocks.js";
import { createHarness, type Harness } from "../helpers/harness.js";

/**
 * GitHub performs a write that creates something, and its answer is lost (a 502, a reset). deploybot
 * must neither let Octokit repeat the write by itself nor repeat it on its own retry: it looks for
 * the deployment or the run first, and finds it. These tests run Octokit as in production, with its
 * retries on.
 */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const repoPath = `/repos/${OWNER}/${REPO}`;

async function later(harness: Harness, seconds: number): Promise<void> {
  harness.now.value = new Date(harness.now.value.getTime() + seconds * 1000);
  await harness.runWorker();
}

async function eventTypes(harness: Harness): Promise<string[]> {
  return (await harness.store.getThread(THREAD_ID))!.events.map((e) => e.type);
}

describe("a lost answer to POST /deployments", () => {
  it("is not retried by Octokit; the retry finds the deployment GitHub made and dispatches it once", async () => {
    const harness = await createHarness({ Octokit: DeploybotOctokit });
    const posted: DeploymentBody[] = [];
    const context = mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML });
    // GitHub creates deployment 1001, then the answer is lost; it would answer the same to a repeat.
    const lost = nock(API)
      .persist()
      .post(`${repoPath}/deployments`, (body: DeploymentBody) => {
        posted.push(body);
        return true;
      })
      .reply(502, { message: "Bad Gateway" });
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of [...context, lost]) expect(scope.isDone()).toBe(true);
    expect(posted).toHaveLength(1);
    expect(await eventTypes(harness)).not.toContain("deployment_created");

    // The retry looks first, finds the deployment by its step, and never posts again.
    const lookup = nock(API)
      .get(`${repoPath}/deployments`)
      .query({ sha: MERGE_SHA, environment: "staging", per_page: "100" })
      .reply(200, [
        {
          id: 1001,
          sha: MERGE_SHA,
          environment: "staging",
          payload: { ...posted[0]!.payload, created_by: "deploybot" },
        },
      ]);
    const dispatches: DispatchBody[] = [];
    const dispatch = mockDispatch("deploy-backend.yml", 5001, dispatches);
    await later(harness, 10);

    for (const scope of [lookup, dispatch]) expect(scope.isDone()).toBe(true);
    expect(dispatches.map((d) => d.inputs.deployment_id)).toEqual(["1001"]);
    expect(await eventTypes(harness)).toContain("deploy_dispatched");
    expect(harness.log.lines.some((l) => l.includes("found the deployment of an earlier attempt"))).toBe(
      true,
    );
  });

  it("creates the deployment on the retry when the look-up shows GitHub never made it", async () => {
    const harness = await createHarness({ Octokit: DeploybotOctokit });
    const context = mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML });
    const reset = nock(API).post(`${repoPath}/deployments`).replyWithError({ code: "ECONNRESET" });
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of [...context, reset]) expect(scope.isDone()).toBe(true);

    const lookup = nock(API)
      .get(`${repoPath}/deployments`)
      .query({ sha: MERGE_SHA, environment: "staging", per_page: "100" })
      .reply(200, []);
    const created = mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "staging" });
    const dispatch = mockDispatch("deploy-backend.yml", 5002);
    await later(harness, 10);
    for (const scope of [lookup, created, dispatch]) expect(scope.isDone()).toBe(true);
    expect(deriveState((await harness.store.getThread(THREAD_ID))!.events).status).toBe("waiting_for_deploy");
  });
});

describe("a lost answer to the workflow dispatch", () => {
  it("is not retried by Octokit; the retry finds the run and dispatches nothing again", async () => {
    const harness = await createHarness({ Octokit: DeploybotOctokit });
    const context = mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML });
    const created = mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" });
    const dispatched: DispatchBody[] = [];
    const lost = nock(API)
      .persist()
      .post(`${repoPath}/actions/workflows/deploy-backend.yml/dispatches`, (body: DispatchBody) => {
        dispatched.push(body);
        return true;
      })
      .reply(502, { message: "Bad Gateway" });
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of [...context, created, lost]) expect(scope.isDone()).toBe(true);
    expect(dispatched).toHaveLength(1);

    const runs = nock(API)
      .get(`${repoPath}/actions/workflows/deploy-backend.yml/runs`)
      .query({ event: "workflow_dispatch", per_page: "50" })
      .reply(200, {
        total_count: 1,
        workflow_runs: [
          {
            id: 5001,
            display_title: `deploy backend ${MERGE_SHA} to staging (deployment 1001)`,
            html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/5001`,
          },
        ],
      });
    await later(harness, 15);
    expect(runs.isDone()).toBe(true);
    expect(dispatched).toHaveLength(1);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.at(-1)).toMatchObject({
      type: "deploy_dispatched",
      data: { deployment_id: 1001, run_id: 5001 },
    });
  });

  it("waits for GitHub to list the run before it counts a dispatch as lost", async () => {
    const harness = await createHarness({ Octokit: DeploybotOctokit });
    const context = mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML });
    const created = mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" });
    const lost = nock(API)
      .post(`${repoPath}/actions/workflows/deploy-backend.yml/dispatches`)
      .replyWithError({ code: "ECONNRESET" });
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of [...context, created, lost]) expect(scope.isDone()).toBe(true);

    // Too soon after the doubtful dispatch: an empty list proves nothing yet, nothing is dispatched.
    const emptySoon = nock(API)
      .get(`${repoPath}/actions/workflows/deploy-backend.yml/runs`)
      .query({ event: "workflow_dispatch", per_page: "50" })
      .reply(200, { total_count: 0, workflow_runs: [] });
    await later(harness, 5);
    expect(emptySoon.isDone()).toBe(true);
    expect(await eventTypes(harness)).not.toContain("deploy_dispatched");

    // Long after it, the run is still not listed: the dispatch was lost, so it is sent again, once.
    const emptyLater = nock(API)
      .get(`${repoPath}/actions/workflows/deploy-backend.yml/runs`)
      .query({ event: "workflow_dispatch", per_page: "50" })
      .reply(200, { total_count: 0, workflow_runs: [] });
    const dispatch = mockDispatch("deploy-backend.yml", 5003);
    await later(harness, 10);
    for (const scope of [emptyLater, dispatch]) expect(scope.isDone()).toBe(true);
    expect(await eventTypes(harness)).toContain("deploy_dispatched");
  });
});
