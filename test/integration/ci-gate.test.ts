import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { recoverThreads } from "../../src/worker/sweeps.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  CONFIG_YAML,
  mockCiState,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockPullFiles,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const CI_PASSING = CONFIG_YAML.replace("  - name: staging\n", "  - name: staging\n    ci: passing\n");

function mergeWithCi(config: string, state: "success" | "failure" | "pending") {
  return [
    mockInstallationToken(),
    mockRepoConfig(config),
    mockPullFiles(7, ["api/cart.ts"]),
    mockDeploymentHistory(["staging", "production"]),
    mockCiState(MERGE_SHA, state),
  ];
}

describe("CI before a deploy", () => {
  it("asks a human instead of deploying a merge whose checks failed", async () => {
    const harness = await createHarness();
    const scopes = mergeWithCi(CONFIG_YAML, "failure");

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.some((e) => e.type === "deploy_authorized")).toBe(false);
    expect(thread.events.find((e) => e.type === "decision")).toMatchObject({
      data: { step: { intent: "ask_human" } },
    });
  });

  it("holds a deploy while CI is pending where the environment needs it passing, then deploys once it passed", async () => {
    const harness = await createHarness();
    const first = mergeWithCi(CI_PASSING, "pending");

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of first) expect(scope.isDone()).toBe(true);
    expect(await harness.store.getThreadSummary(THREAD_ID)).toMatchObject({
      status: "waiting_for_lock",
      waitingOn: "CI of 0123456 to pass",
    });

    harness.now.value = new Date(harness.now.value.getTime() + 5 * 60_000);
    const later = [
      mockCiState(MERGE_SHA, "success"),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await recoverThreads(harness.worker);

    for (const scope of later) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.filter((e) => e.type === "ci_state").map((e) => e.data)).toMatchObject([
      { state: "pending" },
      { state: "success" },
    ]);
    expect((await harness.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_deploy");
  });
});
