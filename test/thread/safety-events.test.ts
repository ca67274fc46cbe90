import { describe, expect, it } from "vitest";
import { newEvent, validateNewEvent } from "../../src/thread/events.js";
import { manualLockWaitKey, windowWaitKey } from "../../src/thread/hold-keys.js";
import { renderContext } from "../../src/agent/context.js";
import { renderMarkdown } from "../../src/http/thread-markdown.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  sampleConfig,
  threadWith,
} from "../helpers/thread-builder.js";

const production = deployStep("backend", "production");

describe("the deploy-safety events", () => {
  it("record a break-glass with who, why, through which channel and what it skipped", () => {
    const event = validateNewEvent(
      newEvent("break_glass_used", {
        step: production,
        by: "octocat",
        reason: "checkout is down",
        channel: "github",
        skipped: ["approval", "freeze"],
      }),
    );
    expect(event.data).toMatchObject({ by: "octocat", skipped: ["approval", "freeze"] });
    expect(() =>
      validateNewEvent(
        newEvent("break_glass_used", {
          step: production,
          by: "octocat",
          reason: "",
          channel: "github",
          skipped: [],
        }),
      ),
    ).toThrow();
  });

  it("record a verification's dispatch and result, with optional run details", () => {
    const dispatched = validateNewEvent(
      newEvent("verify_dispatched", {
        environment: "staging",
        component: "backend",
        sha: MERGE_SHA,
        workflow: "verify-staging.yml",
        run_id: null,
        run_url: null,
      }),
    );
    expect(dispatched.data).toMatchObject({ workflow: "verify-staging.yml", run_id: null });
    const finished = validateNewEvent(
      newEvent("verify_finished", {
        environment: "staging",
        component: "backend",
        sha: MERGE_SHA,
        conclusion: "failure",
        url: null,
        summary: "smoke test: 502",
      }),
    );
    expect(finished.data).toMatchObject({ conclusion: "failure", summary: "smoke test: 502" });
  });

  it("give a deferred step an optional time when its hold ends, refusing a time that is not ISO 8601", () => {
    const base = {
      step: production,
      reason: "production is frozen",
      lock_key: windowWaitKey("acme/shop", "production"),
    };
    expect(() => validateNewEvent(newEvent("step_deferred", base))).not.toThrow();
    expect(() =>
      validateNewEvent(newEvent("step_deferred", { ...base, until: "2027-01-04T08:00:00.000Z" })),
    ).not.toThrow();
    expect(() => validateNewEvent(newEvent("step_deferred", { ...base, until: "next monday" }))).toThrow();
  });

  it("tell the decider which step is held, why, and when it is judged again", () => {
    const reason = "production is frozen until 4 Jan 09:00 CET: Year-end freeze; the step waits";
    const thread = threadWith([
      ...mergeStart(),
      on.decision(production),
      newEvent("step_deferred", {
        step: production,
        reason,
        lock_key: windowWaitKey("acme/shop", "production"),
        until: "2027-01-04T08:00:00.000Z",
      }),
    ]);
    const context = renderContext(thread, sampleConfig());
    expect(context).toContain(`held: ${reason} (judged again at 2027-01-04T08:00Z)`);
    expect(context).toMatch(/waiting: deploy backend \S+ to production held/);
  });

  it("show a step held by a manual lock as waiting on the lock's reason", () => {
    const reason =
      "production is locked by @octocat: migrating the database; the step waits until it is unlocked";
    const thread = threadWith([
      ...mergeStart(),
      on.decision(production),
      newEvent("step_deferred", {
        step: production,
        reason,
        lock_key: manualLockWaitKey("acme/shop", "backend", "production"),
      }),
    ]);
    expect(deriveState(thread.events)).toMatchObject({ status: "waiting_for_lock", waitingOn: reason });
  });

  it("name a manual lock's key as what the step waits on, so unlocking finds it; not a window's", () => {
    const held = (lock_key: string) =>
      deriveState(
        threadWith([
          ...mergeStart(),
          on.decision(production),
          newEvent("step_deferred", { step: production, reason: "held", lock_key }),
        ]).events,
      ).waitingLock;
    const manual = manualLockWaitKey("acme/shop", "backend", "production");
    expect(held(manual)).toBe(manual);
    expect(held(windowWaitKey("acme/shop", "production"))).toBeNull();
  });

  it("tell the decider a failed verification, quoting its summary, and skip the dispatch", () => {
    const thread = threadWith([
      ...mergeStart(),
      newEvent("verify_dispatched", {
        environment: "staging",
        component: "backend",
        sha: MERGE_SHA,
        workflow: "verify-staging.yml",
        run_id: 7,
        run_url: null,
      }),
      newEvent("verify_finished", {
        environment: "staging",
        component: "backend",
        sha: MERGE_SHA,
        conclusion: "failure",
        url: null,
        summary: "smoke test: 502",
      }),
    ]);
    const context = renderContext(thread, sampleConfig());
    expect(context).toMatch(
      /verification of backend \S+ in staging: failure <untrusted source="failure_summary">smoke test: 502/,
    );
    expect(context).not.toContain("verify-staging.yml");
    expect(renderMarkdown(thread)).toContain(
      "verification of backend `0123456` in staging: **failure**: smoke test: 502",
    );
  });
});
