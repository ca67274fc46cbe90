import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { renderContext } from "../../src/agent/context.js";
import { configOf } from "../../src/thread/state.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  CONFIG_YAML,
  mockCiState,
  mockCompare,
  mockDeploymentHistory,
  mockInstallationToken,
  mockPullFiles,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

const NEWER_SHA = "fedcba9876543210fedcba9876543210fedcba98";
const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);

describe("a merge older than what already runs", () => {
  it("is compared with the running commit when it arrives, and is not deployed over it", async () => {
    const harness = await createHarness();
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      mockPullFiles(7, ["api/cart.ts"]),
      // Staging already runs a later merge, deployed before deploybot saw this one.
      mockDeploymentHistory(["staging", "production"], {
        staging: [{ id: 950, sha: NEWER_SHA, component: "backend", success: true }],
      }),
      mockCompare(NEWER_SHA, MERGE_SHA, "behind"),
      mockCiState(MERGE_SHA),
    ];

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.find((e) => e.type === "commits_compared")?.data).toMatchObject({
      base: NEWER_SHA,
      head: MERGE_SHA,
      status: "behind",
    });
    const before = {
      ...thread,
      events: thread.events.filter((e) => e.type !== "decision" && e.type !== "done"),
    };
    expect(renderContext(before, configOf(thread.events)!)).toContain(
      "backend staging: fedcba9 (GitHub deployment 2026-11-20), newer than merge and contains it",
    );
    expect(thread.events.some((e) => e.type === "deploy_authorized")).toBe(false);
    expect(thread.events.at(-1)).toMatchObject({ type: "done", data: { by: "model" } });
  });
});
