import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { eventsForVerdict, planNext } from "../../src/agent/loop.js";
import { newEvent, type NewEvent, type Thread } from "../../src/thread/events.js";
import { bakeWaitKey, verifyWaitKey } from "../../src/thread/hold-keys.js";

/** The planner over time: held steps wait for their end, verifications are dispatched and followed. */

const SHA = "a".repeat(40);
const T0 = Date.parse("2026-11-24T12:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const CONFIG = `
branch: main
components:
  backend: { paths: ["api/**"], workflow: deploy-backend.yml }
environments:
  - name: staging
    bake: 30m
    verify: smoke.yml
    deploy_timeout: 20m
  - name: production
`;
const prodStep = { intent: "deploy_backend", environment: "production", sha: SHA, reason: "promote" };
const place = { component: "backend", environment: "staging", sha: SHA };

function thread(...events: NewEvent[]): Thread {
  return {
    id: "th_1",
    repo: "acme/shop",
    installationId: 1,
    createdAt: at(0).toISOString(),
    events: events.map(
      (e, i) =>
        ({
          ...e,
          seq: i + 1,
          at: at(i === events.length - 1 ? 1 : 0).toISOString(),
        }) as Thread["events"][number],
    ),
  };
}

const start = [
  newEvent("config_loaded", { source: parseYaml(CONFIG) as Record<string, unknown>, default_branch: "main" }),
  newEvent("deploy_authorized", {
    step: { ...prodStep, environment: "staging" },
    kind: "deploy",
    ...place,
    lock_key: "acme/shop:backend:staging",
  }),
  newEvent("deploy_finished", {
    deployment_id: 1,
    ...place,
    outcome: "success",
    summary: "ok",
    source: "deployment_status",
    log_url: null,
  }),
];
const dispatched = newEvent("verify_dispatched", {
  ...place,
  workflow: "smoke.yml",
  run_id: 9,
  run_url: null,
});
const verified = newEvent("verify_finished", { ...place, conclusion: "success", url: null, summary: null });
const plan = (t: Thread, minutes: number) => planNext(t, { now: at(minutes), notify: false });

describe("a step held until a known time", () => {
  const baking = newEvent("step_deferred", {
    step: prodStep,
    reason: "staging is baking until 12:31 UTC",
    lock_key: bakeWaitKey("acme/shop", "backend", "production"),
    until: at(31).toISOString(),
  });

  it("waits, judging nothing, while its hold lasts", () => {
    const result = plan(thread(...start, dispatched, verified, baking), 10);
    expect(result).toEqual({
      kind: "wait",
      status: "waiting_for_lock",
      waitingOn: "staging is baking until 12:31 UTC",
    });
  });

  it("is judged again once the hold's end has passed", () => {
    expect(plan(thread(...start, dispatched, verified, baking), 31).kind).toBe("judge");
  });
});

describe("a step held by a verification", () => {
  const held = newEvent("step_deferred", {
    step: prodStep,
    reason: "the verification (smoke.yml) of backend aaaaaaa in staging has not finished",
    lock_key: verifyWaitKey("acme/shop", "backend", "staging", SHA),
  });

  it("waits while the verification runs", () => {
    expect(plan(thread(...start, dispatched, held), 5).kind).toBe("wait");
  });

  it("is judged again when the verification reported", () => {
    expect(plan(thread(...start, dispatched, held, verified), 5).kind).toBe("judge");
  });
});

describe("the verification of a deploy", () => {
  it("is dispatched after a successful deploy to an environment with verify", () => {
    const result = plan(thread(...start), 1);
    expect(result.kind).toBe("dispatch_verify");
    if (result.kind === "dispatch_verify") expect(result.verification.workflow).toBe("smoke.yml");
  });

  it("times out after the environment's deploy_timeout without a result", () => {
    expect(plan(thread(...start, dispatched), 20).kind).not.toBe("verify_timeout");
    expect(plan(thread(...start, dispatched), 22)).toMatchObject({
      kind: "verify_timeout",
      timeoutMs: 20 * 60_000,
    });
  });

  it("is not dispatched again once it reported", () => {
    expect(plan(thread(...start, dispatched, verified), 1).kind).toBe("decide");
  });
});

describe("recording a held step again", () => {
  const action = {
    kind: "deploy" as const,
    component: "backend",
    environment: "production",
    sha: SHA,
    reason: "r",
  };
  const windowKey = "window:acme/shop:production";
  const recorded = {
    step: prodStep,
    reason: "production is outside its deploy windows",
    lock_key: windowKey,
    until: at(60).toISOString(),
  };
  const options = { approvalId: "ap_1", deferred: recorded, expiresAt: null };

  it("records nothing when the hold is the same", () => {
    const verdict = {
      kind: "wait" as const,
      action,
      lockKey: windowKey,
      reason: recorded.reason,
      until: at(60),
    };
    expect(eventsForVerdict(prodStep, verdict, options)).toEqual([]);
  });

  it("records the new reason and end when the hold changed", () => {
    const verdict = {
      kind: "wait" as const,
      action,
      lockKey: windowKey,
      reason: "production is frozen until 18:00",
      until: at(360),
    };
    expect(eventsForVerdict(prodStep, verdict, options)).toEqual([
      {
        type: "step_deferred",
        data: {
          step: prodStep,
          reason: "production is frozen until 18:00",
          lock_key: windowKey,
          until: at(360).toISOString(),
        },
      },
    ]);
  });

  it("records why an approval is asked", () => {
    const verdict = {
      kind: "needs_approval" as const,
      action,
      reason: "outside",
      approvals_required: 1,
      approvals: 0,
      why: "production is outside its deploy windows",
    };
    expect(eventsForVerdict(prodStep, verdict, options)[0]).toMatchObject({
      type: "approval_requested",
      data: { why: "production is outside its deploy windows" },
    });
  });
});
