import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  mockCreateDeployment,
  mockMergeContext,
} from "../helpers/github-mocks.js";
import { createHarness, type Harness } from "../helpers/harness.js";

/** A deployment deploybot created and will never run gets a final status: GitHub never shows it waiting. */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const repoPath = `/repos/${OWNER}/${REPO}`;

async function cancel(harness: Harness): Promise<void> {
  await harness.store.enqueue(
    {
      deliveryId: "api:ops:cancel-1",
      source: "api",
      kind: "api.control",
      payload: { thread_id: THREAD_ID, action: "cancel", client: "ops", reason: "wrong release" },
    },
    harness.now.value,
  );
  await harness.runWorker();
}

describe("a thread cancelled between creating a deployment and dispatching it", () => {
  it("marks the deployment inactive on GitHub, records why and frees the lock", async () => {
    const harness = await createHarness();
    const scopes = [
      ...mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      // GitHub is down when the workflow is dispatched: the deployment waits, created, not running.
      nock(API).post(`${repoPath}/actions/workflows/deploy-backend.yml/dispatches`).reply(503, {}),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);

    const statuses: { state: string; description: string }[] = [];
    const inactive = nock(API)
      .post(`${repoPath}/deployments/1001/statuses`, (body: { state: string; description: string }) => {
        statuses.push(body);
        return true;
      })
      .reply(201, { id: 1, state: "inactive" });
    await cancel(harness);

    expect(inactive.isDone()).toBe(true);
    expect(statuses).toEqual([
      expect.objectContaining({ state: "inactive", description: expect.stringContaining("cancelled") }),
    ]);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(deriveState(thread.events).status).toBe("cancelled");
    expect(thread.events.at(-1)).toMatchObject({
      type: "deploy_finished",
      data: { deployment_id: 1001, outcome: "failure", source: "abandoned" },
    });
    expect(await harness.store.getDeployment(1001)).toMatchObject({ state: "failure" });
    expect(await harness.store.listLocks()).toEqual([]);
  });

  it("finds a deployment whose creation was in doubt and marks it inactive too", async () => {
    const harness = await createHarness();
    const scopes = [
      ...mockMergeContext({ config: CONFIG_NO_APPROVAL_YAML }),
      // GitHub created deployment 1001, but the answer was lost.
      nock(API).post(`${repoPath}/deployments`).reply(502, {}),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);

    const found = nock(API)
      .get(`${repoPath}/deployments`)
      .query({ sha: MERGE_SHA, environment: "staging", per_page: "100" })
      .reply(200, [
        {
          id: 1001,
          sha: MERGE_SHA,
          environment: "staging",
          payload: { component: "backend", thread_id: THREAD_ID, step_seq: 7, created_by: "deploybot" },
        },
      ])
      .post(`${repoPath}/deployments/1001/statuses`, (body: { state: string }) => body.state === "inactive")
      .reply(201, { id: 1, state: "inactive" });
    await cancel(harness);

    expect(found.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.at(-1)).toMatchObject({
      type: "deploy_finished",
      data: { deployment_id: 1001, source: "abandoned" },
    });
    expect(await harness.store.listLocks()).toEqual([]);
  });
});
