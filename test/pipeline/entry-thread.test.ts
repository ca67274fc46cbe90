import { describe, expect, it } from "vitest";
import { DeliveryThreads, threadIdOfEntry } from "../../src/pipeline/entry-thread.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import type { SqliteStore } from "../../src/store/sqlite.js";
import { recordingLog } from "../helpers/harness.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";

describe("the thread of an inbox entry", () => {
  it("is the merge's thread for a merged pull request", () => {
    const entry = { kind: "pull_request.closed", payload: mergedPullRequest({ number: 12 }) };
    expect(threadIdOfEntry(entry)).toBe(threadIdForMerge(`${OWNER}/${REPO}`, 12, MERGE_SHA));
  });

  it("is named by the deployment's payload for a deployment status", () => {
    const payload = deploymentStatus({ deploymentId: 5, state: "failure" });
    (payload.deployment as Record<string, unknown>).payload = { thread_id: "th_abc", component: "backend" };
    expect(threadIdOfEntry({ kind: "deployment_status.created", payload })).toBe("th_abc");
  });

  it("is named by REST and Slack entries, and unknown for a workflow run", () => {
    expect(threadIdOfEntry({ kind: "api.control", payload: { thread_id: "th_1", action: "pause" } })).toBe(
      "th_1",
    );
    expect(
      threadIdOfEntry({ kind: "workflow_run.completed", payload: { workflow_run: { id: 1 } } }),
    ).toBeNull();
  });
});

describe("a worker log line about a delivery", () => {
  it("names the thread of the delivery", async () => {
    const log = recordingLog();
    const deliveries = new DeliveryThreads();
    await deliveries.remember({ deliveryId: "d-9", kind: "api.control", payload: { thread_id: "th_9" } });

    deliveries.annotate(log).error({ delivery: "d-9", event: "api.control" }, "gave up");
    deliveries.annotate(log).warn({ delivery: "d-unknown" }, "retrying");

    expect(log.lines[0]).toContain('"thread":"th_9"');
    expect(log.lines[1]).not.toContain("thread");
  });

  it("forgets the oldest deliveries beyond its capacity", async () => {
    const deliveries = new DeliveryThreads(2);
    for (const id of ["a", "b", "c"])
      await deliveries.remember({ deliveryId: id, kind: "api.control", payload: { thread_id: `th_${id}` } });
    expect(deliveries.threadOf("a")).toBeUndefined();
    expect(deliveries.threadOf("c")).toBe("th_c");
  });

  it("finds the thread of a workflow run through the deployment deploybot recorded for it", async () => {
    const deliveries = new DeliveryThreads();
    const asked: number[] = [];
    const deployments = {
      getDeployment: async () => null,
      getDeploymentByRun: async (runId: number) => {
        asked.push(runId);
        return runId === 42
          ? ({ threadId: "th_run" } as Awaited<ReturnType<SqliteStore["getDeploymentByRun"]>>)
          : null;
      },
    };

    await deliveries.remember(
      { deliveryId: "d-run", kind: "workflow_run.completed", payload: { workflow_run: { id: 42 } } },
      deployments,
    );
    await deliveries.remember(
      { deliveryId: "d-other", kind: "workflow_run.completed", payload: { workflow_run: { id: 7 } } },
      deployments,
    );

    expect(asked).toEqual([42, 7]);
    expect(deliveries.threadOf("d-run")).toBe("th_run");
    expect(deliveries.threadOf("d-other")).toBeUndefined();
  });
});
