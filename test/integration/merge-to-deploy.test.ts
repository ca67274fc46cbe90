import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deploymentStatus,
  MERGE_SHA,
  mergedPullRequest,
  OWNER,
  REPO,
  workflowRunCompleted,
} from "../helpers/fixtures.js";
import {
  CONFIG_GITHUB_APPROVERS_YAML,
  CONFIG_NO_APPROVAL_YAML,
  CONFIG_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockInstallationToken,
  mockMergeContext,
  mockPullFiles,
  mockRepoConfig,
  type DeploymentBody,
  type DispatchBody,
} from "../helpers/github-mocks.js";
import { APP_ID, createHarness, type Harness } from "../helpers/harness.js";

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);

async function mergeBackendChange(harness: Harness, config = CONFIG_YAML) {
  const deployments: DeploymentBody[] = [];
  const dispatches: DispatchBody[] = [];
  const scopes = [
    ...mockMergeContext({ config, files: ["api/cart.ts", "api/totals.ts", "README.md"] }),
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }, deployments),
    mockDispatch("deploy-backend.yml", 5001, dispatches),
  ];
  await harness.deliver("pull_request", mergedPullRequest());
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  return { deployments, dispatches };
}

async function types(harness: Harness): Promise<string[]> {
  return (await harness.store.getThread(THREAD_ID))!.events.map((e) => e.type);
}

describe("a merged pull request that changes the backend", () => {
  it("creates a staging deployment of the merged commit and dispatches the backend workflow", async () => {
    const harness = await createHarness();
    const { deployments, dispatches } = await mergeBackendChange(harness);

    expect(await types(harness)).toEqual([
      "pr_merged",
      "config_loaded",
      "changes_classified",
      "deployed_versions",
      "ci_state",
      "decision",
      "deploy_authorized",
      "github_writing",
      "deployment_created",
      "github_writing",
      "deploy_dispatched",
    ]);
    expect(deployments[0]).toMatchObject({
      ref: MERGE_SHA,
      environment: "staging",
      auto_merge: false,
      required_contexts: [],
      payload: { component: "backend", thread_id: THREAD_ID },
    });
    expect(dispatches[0]).toEqual({
      ref: "main",
      inputs: { environment: "staging", sha: MERGE_SHA, component: "backend", deployment_id: "1001" },
      return_run_details: true,
    });
    const summary = await harness.store.getThreadSummary(THREAD_ID);
    expect(summary?.status).toBe("waiting_for_deploy");
    expect(summary?.waitingOn).toContain("deployment 1001");
  });

  it("stops at approval_requested for production after staging succeeds", async () => {
    const harness = await createHarness();
    await mergeBackendChange(harness, CONFIG_GITHUB_APPROVERS_YAML);

    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    const thread = (await harness.store.getThread(THREAD_ID))!;
    const state = deriveState(thread.events);
    expect(state.status).toBe("waiting_for_approval");
    expect(state.pendingApproval?.data.step).toMatchObject({
      intent: "deploy_backend",
      environment: "production",
    });
    expect(state.successes).toEqual([{ component: "backend", environment: "staging", sha: MERGE_SHA }]);
    expect(await harness.store.getLock(`${OWNER}/${REPO}:backend:staging`)).toBeNull();
  });

  it("fails at once, saying why, when production needs an approval nobody can give", async () => {
    const harness = await createHarness();
    await mergeBackendChange(harness); // Slack approvers only, and no Slack

    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    const thread = (await harness.store.getThread(THREAD_ID))!;
    const state = deriveState(thread.events);
    expect(state.status).toBe("failed");
    expect(state.terminal?.type === "failed" && state.terminal.data.reason).toContain(
      "production needs an approval, but no approver can be reached (Slack approvers but SLACK_BOT_TOKEN is not set",
    );
    expect(thread.events.some((e) => e.type === "approval_requested")).toBe(false);
  });

  it("promotes to production and finishes in code when no approval is required", async () => {
    const harness = await createHarness();
    await mergeBackendChange(harness, CONFIG_NO_APPROVAL_YAML);
    const production = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];

    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    for (const scope of production) expect(scope.isDone()).toBe(true);
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1002, state: "success" }));

    const thread = (await harness.store.getThread(THREAD_ID))!;
    const done = thread.events.at(-1)!;
    expect(done).toMatchObject({ type: "done", data: { by: "code" } });
    expect(deriveState(thread.events).status).toBe("done");
    const decisions = thread.events.filter((e) => e.type === "decision");
    expect(decisions).toHaveLength(2); // staging and production; the end needed no model
  });

  it("ignores deployment statuses that deploybot wrote itself", async () => {
    const harness = await createHarness();
    await mergeBackendChange(harness);

    await harness.deliver(
      "deployment_status",
      deploymentStatus({ deploymentId: 1001, state: "failure", viaAppId: APP_ID }),
    );

    expect((await harness.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_deploy");
  });

  it("ends the deploy as failed when its workflow run fails without a final status", async () => {
    const harness = await createHarness();
    await mergeBackendChange(harness);

    await harness.deliver(
      "workflow_run",
      workflowRunCompleted({
        runId: 5001,
        conclusion: "failure",
        title: "deploy backend to staging (deployment 1001)",
      }),
    );

    const thread = (await harness.store.getThread(THREAD_ID))!;
    const finished = thread.events.find((e) => e.type === "deploy_finished");
    expect(finished?.data).toMatchObject({ outcome: "failure", source: "workflow_run", deployment_id: 1001 });
    // Nothing deployed there before, so there is nothing to roll back to: a human is asked.
    expect(deriveState(thread.events).status).toBe("waiting_for_human");
  });
});

describe("a merge that deploybot does not deploy", () => {
  it("finishes at once, saying why, when no changed file belongs to a component", async () => {
    const harness = await createHarness();
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      mockPullFiles(7, ["docs/intro.md"]),
    ];

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.at(-1)).toMatchObject({ type: "done", data: { by: "code" } });
    expect(JSON.stringify(thread.events.at(-1))).toContain("Nothing to deploy");
  });

  it("starts no thread in a repository without .github/deploybot.yml", async () => {
    const harness = await createHarness();
    const scopes = [mockInstallationToken(), mockRepoConfig(null)];

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await harness.store.listThreads({})).toEqual([]);
    expect(await harness.store.inboxCounts()).toMatchObject({ done: 1, dead: 0 });
  });

  it("records a failed thread naming the file and the field when the config is invalid", async () => {
    const harness = await createHarness();
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML.replace("    approvers: [U01APPROVER, S01RELEASETEAM]\n", "")),
    ];

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(deriveState(thread.events).status).toBe("failed");
    const invalid = thread.events.find((e) => e.type === "config_invalid");
    expect(invalid?.data).toMatchObject({ file: `${OWNER}/${REPO}:.github/deploybot.yml` });
    expect(JSON.stringify(invalid?.data)).toContain("environments[1].approvers");
    expect(
      harness.log.lines.some((l) => l.startsWith(`warn ${OWNER}/${REPO}:.github/deploybot.yml is invalid`)),
    ).toBe(true);
  });

  it("ignores a merge into a branch other than the configured one", async () => {
    const harness = await createHarness();
    const scopes = [mockInstallationToken(), mockRepoConfig(CONFIG_YAML)];

    await harness.deliver("pull_request", mergedPullRequest({ baseRef: "release-1.x" }));

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await harness.store.listThreads({})).toEqual([]);
  });

  it("stores nothing for a pull request closed without merging", async () => {
    const harness = await createHarness();

    await harness.deliver("pull_request", mergedPullRequest({ merged: false }));

    expect(await harness.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
