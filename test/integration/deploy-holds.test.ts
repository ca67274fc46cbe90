import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import { recoverThreads } from "../../src/worker/sweeps.js";
import {
  deploymentStatus,
  MERGE_SHA,
  mergedPullRequest,
  OLD_SHA,
  OWNER,
  REPO,
  workflowRunCompleted,
} from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  mockCiState,
  mockCompare,
  mockCreateDeployment,
  mockDispatch,
  mockMergeContext,
  type DeploymentBody,
  type DispatchBody,
} from "../helpers/github-mocks.js";
import { startAppServer, type AppServer } from "../helpers/app-server.js";

/**
 * Holds that end by themselves, through the real server (signed webhooks) and the worker: a freeze,
 * a bake, a verification. Timers are the recovery sweep over stored events, so the fake clock and
 * one sweep stand for time.
 */

/** The app as a black box, as a test drives it: signed webhooks in, the worker run after each. */
interface Harness {
  store: AppServer["store"];
  worker: AppServer["worker"];
  now: AppServer["now"];
  deliver(event: string, payload: unknown): Promise<void>;
}

let app: AppServer | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function createHarness(): Promise<Harness> {
  const started = await startAppServer();
  app = started;
  return {
    store: started.store,
    worker: started.worker,
    now: started.now,
    async deliver(event, payload) {
      expect((await started.webhook(event, payload)).status).toBe(200);
      await started.runWorker();
    },
  };
}

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const repoPath = `/repos/${OWNER}/${REPO}`;

/** The no-approval config (without Slack) with extra lines for staging and production. */
function config(staging: string, production = ""): string {
  return CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "")
    .replace("  - name: staging\n", `  - name: staging\n${staging}`)
    .replace("  - name: production\n", `  - name: production\n${production}`);
}

async function mergeAndDeployStaging(
  harness: Harness,
  yaml: string,
  history?: NonNullable<Parameters<typeof mockMergeContext>[0]>["history"],
) {
  const scopes = [
    ...mockMergeContext({ config: yaml, files: ["api/cart.ts"], ...(history ? { history } : {}) }),
    ...(history ? [mockCompare(OLD_SHA, MERGE_SHA)] : []),
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
    mockDispatch("deploy-backend.yml", 5001),
  ];
  await harness.deliver("pull_request", mergedPullRequest());
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
}

async function events(harness: Harness) {
  return (await harness.store.getThread(THREAD_ID))!.events;
}

/** What promoting to production asks of GitHub once the hold ended (CI is looked up again by then). */
function productionDeploy(sent: DeploymentBody[] = []) {
  return [
    mockCiState(MERGE_SHA),
    mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }, sent),
    mockDispatch("deploy-backend.yml", 5002),
  ];
}

describe("a production deploy during a freeze", () => {
  const frozen = config(
    "",
    '    freezes:\n      - { from: "2026-11-24T11:00:00Z", to: "2026-11-24T14:00:00Z", reason: "database migration" }\n',
  );

  it("waits, visibly, until the freeze ends and is deployed after", async () => {
    const harness = await createHarness();
    await mergeAndDeployStaging(harness, frozen);
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    const held = deriveState(await events(harness));
    expect(held.status).toBe("waiting_for_lock");
    expect(held.deferred?.data).toMatchObject({ until: "2026-11-24T14:00:00.000Z" });
    expect(held.waitingOn).toContain("production is frozen");
    expect(held.waitingOn).toContain("database migration");

    // An hour on, still frozen: the sweep looks at the thread and asks GitHub nothing.
    const before = (await events(harness)).length;
    harness.now.value = new Date("2026-11-24T13:00:00Z");
    await recoverThreads(harness.worker);
    expect(await events(harness)).toHaveLength(before);

    const sent: DeploymentBody[] = [];
    const production = productionDeploy(sent);
    harness.now.value = new Date("2026-11-24T14:00:30Z");
    await recoverThreads(harness.worker);
    for (const scope of production) expect(scope.isDone()).toBe(true);
    expect(sent[0]).toMatchObject({ ref: MERGE_SHA, environment: "production" });
    expect(deriveState(await events(harness)).status).toBe("waiting_for_deploy");
  });
});

describe("a production deploy after staging with a bake time", () => {
  it("waits until staging has baked, then deploys", async () => {
    const harness = await createHarness();
    await mergeAndDeployStaging(harness, config("    bake: 30m\n"));
    harness.now.value = new Date("2026-11-24T12:05:00Z");
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    const held = deriveState(await events(harness));
    expect(held.waitingOn).toContain("staging is baking until");
    expect(held.deferred?.data.until).toBe("2026-11-24T12:35:00.000Z");

    harness.now.value = new Date("2026-11-24T12:34:00Z");
    const before = (await events(harness)).length;
    await recoverThreads(harness.worker);
    expect(await events(harness)).toHaveLength(before);

    const production = productionDeploy();
    harness.now.value = new Date("2026-11-24T12:35:00Z");
    await recoverThreads(harness.worker);
    for (const scope of production) expect(scope.isDone()).toBe(true);
    expect((await events(harness)).filter((e) => e.type === "deploy_authorized")).toHaveLength(2);
  });
});

describe("a staging deploy whose verification fails", () => {
  it("is verified once, and rolled back without ever reaching production", async () => {
    const harness = await createHarness();
    await mergeAndDeployStaging(harness, config("    verify: smoke.yml\n"), {
      staging: [{ id: 900, sha: OLD_SHA, component: "backend", success: true }],
    });
    const verifyDispatches: DispatchBody[] = [];
    const verify = mockDispatch("smoke.yml", 7001, verifyDispatches);
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    expect(verify.isDone()).toBe(true);
    expect(verifyDispatches).toEqual([
      {
        ref: "main",
        inputs: { environment: "staging", sha: MERGE_SHA, component: "backend" },
        return_run_details: true,
      },
    ]);
    const verifying = deriveState(await events(harness));
    expect(verifying.status).toBe("waiting_for_lock");
    expect(verifying.waitingOn).toContain("the verification (smoke.yml) of backend 0123456 in staging");

    const failedRun = nock(API)
      .get(`${repoPath}/actions/runs/7001/jobs`)
      .query({ filter: "latest", per_page: "50" })
      .reply(200, {
        total_count: 1,
        jobs: [
          {
            id: 88,
            name: "smoke",
            conclusion: "failure",
            steps: [{ name: "GET /health", conclusion: "failure", number: 1 }],
          },
        ],
      })
      .get(`${repoPath}/actions/jobs/88/logs`)
      .reply(200, "2026-11-24T12:00:05.0000000Z Error: expected 200, got 503\n", {
        "content-type": "text/plain",
      });
    const rollbackBodies: DeploymentBody[] = [];
    const rollback = [
      mockCreateDeployment(1002, { sha: OLD_SHA, environment: "staging" }, rollbackBodies),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    await harness.deliver(
      "workflow_run",
      workflowRunCompleted({
        runId: 7001,
        conclusion: "failure",
        title: `verify backend ${MERGE_SHA} in staging`,
      }),
    );
    expect(failedRun.isDone()).toBe(true);
    for (const scope of rollback) expect(scope.isDone()).toBe(true);

    const thread = await events(harness);
    const finished = thread.find((e) => e.type === "verify_finished");
    expect(finished?.data).toMatchObject({ conclusion: "failure", environment: "staging" });
    expect(finished?.type === "verify_finished" && finished.data.summary).toContain("expected 200, got 503");
    expect(thread.filter((e) => e.type === "verify_dispatched")).toHaveLength(1);
    expect(rollbackBodies[0]).toMatchObject({ ref: OLD_SHA, environment: "staging" });
    const authorized = thread.filter((e) => e.type === "deploy_authorized").map((e) => e.data);
    expect(authorized.map((a) => `${a.kind} ${a.environment}`)).toEqual([
      "deploy staging",
      "rollback staging",
    ]);

    // The same webhook again records nothing new.
    const before = thread.length;
    await harness.deliver(
      "workflow_run",
      workflowRunCompleted({
        runId: 7001,
        conclusion: "failure",
        title: `verify backend ${MERGE_SHA} in staging`,
      }),
    );
    expect(await events(harness)).toHaveLength(before);
  });
});

describe("a verification that never reports", () => {
  it("is read from GitHub once the deploy_timeout passed, and counts as timed out while still running", async () => {
    const harness = await createHarness();
    await mergeAndDeployStaging(harness, config("    verify: smoke.yml\n    deploy_timeout: 20m\n"));
    const verify = mockDispatch("smoke.yml", 7002);
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    expect(verify.isDone()).toBe(true);

    const run = nock(API)
      .get(`${repoPath}/actions/runs/7002`)
      .reply(200, {
        id: 7002,
        status: "in_progress",
        conclusion: null,
        html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/7002`,
      });
    // The held production step is judged again after the result, on CI looked up afresh.
    const ci = mockCiState(MERGE_SHA);
    harness.now.value = new Date("2026-11-24T12:20:00Z");
    await recoverThreads(harness.worker);
    expect(run.isDone()).toBe(true);
    expect(ci.isDone()).toBe(true);

    const thread = await events(harness);
    const finished = thread.find((e) => e.type === "verify_finished");
    expect(finished?.data).toMatchObject({ conclusion: "timed_out", environment: "staging" });
    expect(thread.filter((e) => e.type === "deploy_authorized")).toHaveLength(1);
    expect(deriveState(thread).status).toBe("waiting_for_human");
  });
});
