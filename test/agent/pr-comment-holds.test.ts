import { describe, expect, it } from "vitest";
import { renderPrComment } from "../../src/agent/pr-comment.js";
import { newEvent } from "../../src/thread/events.js";
import { bakeWaitKey } from "../../src/thread/hold-keys.js";
import {
  deployRun,
  deployStep,
  MERGE_SHA,
  mergeStart,
  sampleConfig,
  threadWith,
} from "../helpers/thread-builder.js";

const config = sampleConfig();
const place = { component: "backend", environment: "staging", sha: MERGE_SHA };

describe("the pull request comment of a thread with holds", () => {
  it("says what holds a step and until when", () => {
    const thread = threadWith([
      ...mergeStart({ backend: ["api/cart.ts"] }),
      ...deployRun("backend", "staging", "success", { deploymentId: 1001 }),
      newEvent("step_deferred", {
        step: deployStep("backend", "production"),
        reason: "staging is baking until 12:35 UTC",
        lock_key: bakeWaitKey("acme/shop", "backend", "production"),
        until: "2026-11-24T12:35:00.000Z",
      }),
    ]);
    const body = renderPrComment(thread, config);
    expect(body).toContain("⏳ staging is baking until 12:35 UTC");
    expect(body).not.toContain("queued behind another deploy");
  });

  it("shows a deploy's verification, and its failure", () => {
    const run = [...mergeStart({ backend: ["api/cart.ts"] }), ...deployRun("backend", "staging", "success")];
    const dispatched = newEvent("verify_dispatched", {
      ...place,
      workflow: "smoke.yml",
      run_id: 9,
      run_url: null,
    });
    expect(renderPrComment(threadWith([...run, dispatched]), config)).toContain("🔍 verifying");
    const failed = newEvent("verify_finished", {
      ...place,
      conclusion: "failure",
      url: "https://github.com/acme/shop/actions/runs/9",
      summary: "smoke failed",
    });
    expect(renderPrComment(threadWith([...run, dispatched, failed]), config)).toContain(
      "❌ [verification](https://github.com/acme/shop/actions/runs/9) failure",
    );
  });

  it("says why an approval is asked", () => {
    const request = newEvent("approval_requested", {
      approval_id: "ap_1",
      step: deployStep("backend", "production"),
      expires_at: null,
      why: "production is outside its deploy windows",
    });
    const thread = threadWith([...mergeStart({ backend: ["api/cart.ts"] }), request]);
    expect(renderPrComment(thread, config)).toContain(": production is outside its deploy windows.");
  });
});
