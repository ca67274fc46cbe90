import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deploymentCreatedByRun,
  deploymentStatus,
  MERGE_SHA,
  mergedPullRequest,
  OWNER,
  protectionRuleRequested,
  REPO,
  workflowRunCompleted,
} from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  mockDispatch,
  mockMergeContext,
  mockRepoConfig,
  type DispatchBody,
} from "../helpers/github-mocks.js";
import { createHarness, type Harness } from "../helpers/harness.js";

/** `deployments: actions`: Actions creates the deployment for the job's environment; deploybot adopts it and guards the environment. */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const ACTIONS_YAML = `deployments: actions\n${CONFIG_NO_APPROVAL_YAML}`;
const repoPath = `/repos/${OWNER}/${REPO}`;

/** Merge #7: deploybot dispatches the staging run (5001) without creating a deployment. */
async function mergeInActionsMode(harness: Harness): Promise<DispatchBody[]> {
  const sent: DispatchBody[] = [];
  const scopes = [
    ...mockMergeContext({ config: ACTIONS_YAML }),
    mockDispatch("deploy-backend.yml", 5001, sent),
  ];
  await harness.deliver("pull_request", mergedPullRequest());
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  return sent;
}

/** A run of a workflow file, on the merge commit. */
function mockRun(runId: number, workflow: string) {
  return nock(API)
    .get(`${repoPath}/actions/runs/${runId}`)
    .reply(200, { id: runId, path: `.github/workflows/${workflow}`, head_sha: MERGE_SHA });
}

function mockGateReview(
  runId: number,
  reviews: { state: string; comment: string; environment_name: string }[],
) {
  return nock(API)
    .post(`${repoPath}/actions/runs/${runId}/deployment_protection_rule`, (body) => {
      reviews.push(body as (typeof reviews)[number]);
      return true;
    })
    .reply(204);
}

describe("a repository with deployments: actions", () => {
  it("dispatches without creating a deployment, and adopts the one the run's job creates", async () => {
    const harness = await createHarness();
    const sent = await mergeInActionsMode(harness);
    expect(sent[0]!.inputs).toEqual({ environment: "staging", sha: MERGE_SHA, component: "backend" });
    let thread = (await harness.store.getThread(THREAD_ID))!;
    expect(deriveState(thread.events).waitingOn).toContain("run 5001, its deployment not created yet");

    await harness.deliver(
      "deployment",
      deploymentCreatedByRun({ deploymentId: 3001, environment: "staging", runId: 5001 }),
    );
    thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.find((e) => e.type === "deployment_created")?.data).toMatchObject({
      deployment_id: 3001,
      environment: "staging",
      sha: MERGE_SHA,
    });
    expect((await harness.store.getDeployment(3001))?.runId).toBe(5001);

    // Its statuses end the step as for a deployment deploybot created; production follows.
    const production = mockDispatch("deploy-backend.yml", 5002);
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 3001, state: "success" }));
    expect(production.isDone()).toBe(true);
    thread = (await harness.store.getThread(THREAD_ID))!;
    expect(deriveState(thread.events).successes).toEqual([
      { component: "backend", environment: "staging", sha: MERGE_SHA },
    ]);
    expect(
      (
        await harness.store.successfulDeployments(`${OWNER}/${REPO}`, {
          component: "backend",
          environment: "staging",
          limit: 5,
        })
      )[0]?.deploymentId,
    ).toBe(3001);
  });

  it("ends the step, saying why, when the run finishes without creating a deployment", async () => {
    const harness = await createHarness();
    await mergeInActionsMode(harness);
    await harness.deliver(
      "workflow_run",
      workflowRunCompleted({ runId: 5001, conclusion: "success", title: "Deploy backend to staging" }),
    );
    const thread = (await harness.store.getThread(THREAD_ID))!;
    const finished = thread.events.find((e) => e.type === "deploy_finished");
    expect(finished?.data).toMatchObject({ outcome: "failure", deployment_id: null });
    expect(finished?.type === "deploy_finished" && finished.data.summary).toContain(
      "does its job name `environment: staging`",
    );
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toBeNull();
  });
});

describe("deploybot as the environment's protection rule", () => {
  it("approves the run it dispatched for an authorised step", async () => {
    const harness = await createHarness();
    await mergeInActionsMode(harness);
    const reviews: { state: string; comment: string; environment_name: string }[] = [];
    const scope = mockGateReview(5001, reviews);
    await harness.deliver(
      "deployment_protection_rule",
      protectionRuleRequested({ runId: 5001, environment: "staging" }),
    );
    expect(scope.isDone()).toBe(true);
    expect(reviews).toEqual([expect.objectContaining({ state: "approved", environment_name: "staging" })]);
    expect(reviews[0]!.comment).toContain("deploybot authorised this deploy of backend 0123456 to staging");
  });

  it("rejects a manual run of a protected environment with the policy's reason and the way through deploybot", async () => {
    const harness = await createHarness();
    await mergeInActionsMode(harness);
    const reviews: { state: string; comment: string; environment_name: string }[] = [];
    const scopes = [mockRepoConfig(ACTIONS_YAML), mockRun(7777, "deploy-backend.yml")];
    const scope = mockGateReview(7777, reviews);
    await harness.deliver(
      "deployment_protection_rule",
      protectionRuleRequested({ runId: 7777, environment: "production" }),
    );
    expect(scope.isDone()).toBe(true);
    expect(reviews[0]).toMatchObject({ state: "rejected", environment_name: "production" });
    for (const read of scopes) expect(read.isDone()).toBe(true);
    expect(reviews[0]!.comment).toContain("backend 0123456 has not succeeded in staging yet");
    expect(reviews[0]!.comment).toContain("/deploybot deploy <component> to production");
  });

  it("approves a manual run the policy allows", async () => {
    const harness = await createHarness();
    await mergeInActionsMode(harness);
    const reviews: { state: string; comment: string; environment_name: string }[] = [];
    const scopes = [
      mockRepoConfig(ACTIONS_YAML),
      mockRun(7778, "deploy-frontend.yml"),
      mockGateReview(7778, reviews),
    ];
    await harness.deliver(
      "deployment_protection_rule",
      protectionRuleRequested({ runId: 7778, environment: "staging" }),
    );
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(reviews[0]).toMatchObject({ state: "approved", environment_name: "staging" });
    expect(reviews[0]!.comment).toContain("deploybot's policy allows frontend 0123456 in staging");
  });

  it("rejects deploybot's own run when it targets another environment than the one authorised", async () => {
    const harness = await createHarness();
    await mergeInActionsMode(harness);
    const reviews: { state: string; comment: string; environment_name: string }[] = [];
    const scope = mockGateReview(5001, reviews);
    await harness.deliver(
      "deployment_protection_rule",
      protectionRuleRequested({ runId: 5001, environment: "production" }),
    );
    expect(scope.isDone()).toBe(true);
    expect(reviews[0]).toMatchObject({ state: "rejected" });
    expect(reviews[0]!.comment).toContain("authorised this run for staging, not production");
  });
});
