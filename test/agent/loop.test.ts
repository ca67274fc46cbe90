import { describe, expect, it } from "vitest";
import { eventsForVerdict, MAX_CONSECUTIVE_FAILURES, planNext } from "../../src/agent/loop.js";

const OPTIONS = { now: new Date("2026-11-24T12:00:00.000Z"), notify: false };
import { newEvent, type NewEvent, type Thread } from "../../src/thread/events.js";
import { deriveState } from "../../src/thread/state.js";
import { parse as parseYaml } from "yaml";
import { CONFIG_NO_APPROVAL_YAML } from "../helpers/github-mocks.js";

const SHA = "a".repeat(40);
const meta = {
  decider: "rules" as const,
  model: "rules",
  prompt_hash: "h",
  tokens_in: null,
  tokens_out: null,
  latency_ms: 1,
};
const deployStaging = { intent: "deploy_backend", environment: "staging", sha: SHA, reason: "promote" };

function thread(...events: NewEvent[]): Thread {
  return {
    id: "th_1",
    repo: "acme/shop",
    installationId: 1,
    createdAt: "2026-11-24T12:00:00.000Z",
    events: events.map(
      (e, i) => ({ ...e, seq: i + 1, at: "2026-11-24T12:00:00.000Z" }) as Thread["events"][number],
    ),
  };
}

const start = [
  newEvent("pr_merged", {
    installation_id: 1,
    owner: "acme",
    repo: "shop",
    number: 7,
    title: "t",
    body: "",
    author: "octocat",
    merge_sha: SHA,
    base_ref: "main",
    html_url: "https://github.com/acme/shop/pull/7",
  }),
  newEvent("config_loaded", {
    source: parseYaml(CONFIG_NO_APPROVAL_YAML) as Record<string, unknown>,
    default_branch: "main",
  }),
  newEvent("changes_classified", {
    files_total: 1,
    components: [{ name: "backend", files: ["api/a.ts"], files_total: 1 }],
    unmatched_total: 0,
  }),
];

const authorized = (environment: string) =>
  newEvent("deploy_authorized", {
    step: { ...deployStaging, environment },
    kind: "deploy",
    component: "backend",
    environment,
    sha: SHA,
    lock_key: `acme/shop:backend:${environment}`,
  });
const created = (id: number, environment: string) =>
  newEvent("deployment_created", {
    step_seq: 4,
    deployment_id: id,
    component: "backend",
    environment,
    sha: SHA,
  });
const dispatched = (id: number) =>
  newEvent("deploy_dispatched", {
    deployment_id: id,
    workflow: "deploy-backend.yml",
    run_id: 9,
    run_url: null,
  });
const finished = (environment: string, outcome: "success" | "failure") =>
  newEvent("deploy_finished", {
    deployment_id: 1,
    component: "backend",
    environment,
    sha: SHA,
    outcome,
    summary: outcome,
    source: "deployment_status",
    log_url: null,
  });

describe("planning a thread's next step", () => {
  it("asks the decider first", () => {
    expect(planNext(thread(...start), OPTIONS).kind).toBe("decide");
  });

  it("judges a decision that has no verdict yet (e.g. after a crash)", () => {
    const plan = planNext(thread(...start, newEvent("decision", { ...meta, step: deployStaging })), OPTIONS);
    expect(plan).toMatchObject({ kind: "judge", step: deployStaging, approved: false });
  });

  it("creates the deployment of an authorized step, then dispatches it, then waits", () => {
    expect(planNext(thread(...start, authorized("staging")), OPTIONS).kind).toBe("create_deployment");
    expect(planNext(thread(...start, authorized("staging"), created(1, "staging")), OPTIONS).kind).toBe(
      "dispatch",
    );
    const waiting = planNext(
      thread(...start, authorized("staging"), created(1, "staging"), dispatched(1)),
      OPTIONS,
    );
    expect(waiting).toMatchObject({ kind: "wait", status: "waiting_for_deploy" });
  });

  it("decides again after a deploy finished", () => {
    const events = [
      ...start,
      authorized("staging"),
      created(1, "staging"),
      dispatched(1),
      finished("staging", "success"),
    ];
    expect(planNext(thread(...events), OPTIONS).kind).toBe("decide");
  });

  it("finishes in code once every changed component reached the last environment", () => {
    const events = [
      ...start,
      authorized("staging"),
      created(1, "staging"),
      dispatched(1),
      finished("staging", "success"),
      authorized("production"),
      created(2, "production"),
      dispatched(2),
      finished("production", "success"),
    ];
    expect(planNext(thread(...events), OPTIONS)).toEqual({
      kind: "finish",
      message: `Deployed backend at aaaaaaa to production.`,
    });
  });

  it(`asks a human after ${MAX_CONSECUTIVE_FAILURES} unusable answers in a row`, () => {
    const error = newEvent("decision_error", { ...meta, error: "answer is not JSON" });
    expect(planNext(thread(...start, error, error), OPTIONS).kind).toBe("decide");
    const plan = planNext(thread(...start, error, error, error), OPTIONS);
    expect(plan).toMatchObject({ kind: "escalate" });
    expect(plan.kind === "escalate" && plan.reason).toContain("answer is not JSON");
  });

  it("counts policy refusals as unusable answers, and a productive step resets the count", () => {
    const refused = newEvent("policy_refused", { step: deployStaging, reason: "no" });
    expect(planNext(thread(...start, refused, refused, refused), OPTIONS).kind).toBe("escalate");
    expect(
      deriveState(thread(...start, refused, refused, authorized("staging")).events).consecutiveFailures,
    ).toBe(0);
  });

  it("waits for a human once one was asked, and resumes after the answer", () => {
    const asked = newEvent("human_needed", { question: "Which?", reason: "unsure" });
    expect(planNext(thread(...start, asked), OPTIONS)).toMatchObject({
      kind: "wait",
      status: "waiting_for_human",
    });
    const answered = newEvent("human_answered", { answer: "staging", slack_user: "U1" });
    expect(planNext(thread(...start, asked, answered), OPTIONS).kind).toBe("decide");
  });

  it("re-judges an approved step as approved", () => {
    const requested = newEvent("approval_requested", {
      approval_id: "ap_1",
      step: deployStaging,
      expires_at: null,
    });
    expect(planNext(thread(...start, requested), OPTIONS).kind).toBe("wait");
    const granted = newEvent("approval_granted", {
      approval_id: "ap_1",
      by: "U1",
      channel: "slack",
      slack_user: "U1",
    });
    expect(planNext(thread(...start, requested, granted), OPTIONS)).toMatchObject({
      kind: "judge",
      approved: true,
    });
  });

  it("does nothing more on a finished thread", () => {
    expect(planNext(thread(...start, newEvent("done", { message: "ok", by: "model" })), OPTIONS).kind).toBe(
      "idle",
    );
  });
});

describe("recording a verdict", () => {
  const options = { approvalId: "ap_1", deferred: null, expiresAt: null };

  it("records a refusal with its reason, for the next decision to read", () => {
    expect(eventsForVerdict(deployStaging, { kind: "refuse", reason: "nope" }, options)).toEqual([
      { type: "policy_refused", data: { step: deployStaging, reason: "nope" } },
    ]);
  });

  it("defers a waiting step once, not on every wake-up", () => {
    const verdict = {
      kind: "wait" as const,
      lockKey: "k",
      reason: "busy",
      action: {
        kind: "deploy" as const,
        component: "backend",
        environment: "staging",
        sha: SHA,
        reason: "r",
      },
    };
    expect(eventsForVerdict(deployStaging, verdict, options)).toHaveLength(1);
    const deferred = { step: deployStaging, reason: "busy", lock_key: "k" };
    expect(eventsForVerdict(deployStaging, verdict, { ...options, deferred })).toEqual([]);
  });

  it("turns ask_human into a question and done_for_now into the end", () => {
    const allow = { kind: "allow" as const, action: null, lockKey: null };
    expect(
      eventsForVerdict({ intent: "ask_human", question: "Q?", reason: "r" }, allow, options)[0]?.type,
    ).toBe("human_needed");
    expect(eventsForVerdict({ intent: "done_for_now", message: "m" }, allow, options)[0]).toEqual({
      type: "done",
      data: { message: "m", by: "model" },
    });
  });
});
