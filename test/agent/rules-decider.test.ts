import { newEvent } from "../../src/thread/events.js";
import { describe, expect, it } from "vitest";
import type { DecisionResult } from "../../src/agent/decide.js";
import type { NewEvent } from "../../src/thread/events.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import {
  deployRun,
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  PREVIOUS_SHA,
  rollbackStep,
  sampleConfig,
  threadWith,
} from "../helpers/thread-builder.js";

const config = sampleConfig();

async function decide(events: NewEvent[]): Promise<DecisionResult> {
  let now = 1_000;
  const decider = createRulesDecider({ clock: () => (now += 2) });
  return decider.decide({ thread: threadWith(events), config });
}

async function stepOf(events: NewEvent[]) {
  const result = await decide(events);
  if (!result.ok) throw new Error(`expected a step, got: ${result.error}`);
  return result.step;
}

describe("the rules decider", () => {
  it("records itself as the decider, with no tokens and a measured latency", async () => {
    const result = await decide(mergeStart());
    expect(result.meta).toEqual({
      decider: "rules",
      model: "rules",
      prompt_hash: "rules-v2",
      tokens_in: null,
      tokens_out: null,
      latency_ms: 2,
    });
  });

  it("deploys the merged commit to staging first", async () => {
    expect(await stepOf(mergeStart())).toEqual({
      intent: "deploy_backend",
      environment: "staging",
      sha: MERGE_SHA,
      reason: "promote 0123456 to staging",
    });
  });

  it("promotes to production only after staging succeeded", async () => {
    const waiting = [...mergeStart(), on.authorized("deploy", "backend", "staging")];
    expect(await stepOf(waiting)).toMatchObject({ intent: "deploy_backend", environment: "staging" });
    const staged = [...mergeStart(), ...deployRun("backend", "staging")];
    expect(await stepOf(staged)).toMatchObject({
      intent: "deploy_backend",
      environment: "production",
      sha: MERGE_SHA,
    });
  });

  it("goes environment by environment across two components, in config order", async () => {
    const start = mergeStart({ frontend: ["web/app.tsx"], backend: ["api/cart.ts"] });
    expect(await stepOf(start)).toMatchObject({ intent: "deploy_backend", environment: "staging" });
    const backendStaged = [...start, ...deployRun("backend", "staging")];
    expect(await stepOf(backendStaged)).toMatchObject({ intent: "deploy_frontend", environment: "staging" });
    const bothStaged = [
      ...backendStaged,
      ...deployRun("frontend", "staging", "success", { deploymentId: 2 }),
    ];
    expect(await stepOf(bothStaged)).toMatchObject({ intent: "deploy_backend", environment: "production" });
  });

  it("rolls back to the previous version after a failure", async () => {
    const events = [
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA, "backend/production": PREVIOUS_SHA }),
      ...deployRun("backend", "staging", "failure"),
    ];
    expect(await stepOf(events)).toMatchObject({
      intent: "rollback",
      component: "backend",
      environment: "staging",
      to_sha: PREVIOUS_SHA,
    });
  });

  it("asks a human after a failure when nothing ran there before", async () => {
    const events = [
      ...mergeStart(),
      on.deployed({ "backend/staging": null }),
      ...deployRun("backend", "staging", "failure", { summary: "migrate: relation cart exists" }),
    ];
    const step = await stepOf(events);
    expect(step).toMatchObject({ intent: "ask_human" });
    expect(step.intent === "ask_human" && "question" in step && step.question).toBe(
      "The deploy of backend to staging failed (migrate: relation cart exists). Retry, or stop?",
    );
  });

  it("is done after a successful rollback", async () => {
    const events = [
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      ...deployRun("backend", "staging", "failure"),
      ...deployRun("backend", "staging", "success", { kind: "rollback", sha: PREVIOUS_SHA, deploymentId: 2 }),
    ];
    expect(await stepOf(events)).toEqual({
      intent: "done_for_now",
      message: "rolled back backend in staging to 89abcde",
    });
  });

  it("is done when every changed component reached the last environment", async () => {
    const events = [
      ...mergeStart({ backend: ["api/cart.ts"], frontend: ["web/app.tsx"] }),
      ...deployRun("backend", "staging"),
      ...deployRun("frontend", "staging", "success", { deploymentId: 2 }),
      ...deployRun("backend", "production", "success", { deploymentId: 3 }),
      ...deployRun("frontend", "production", "success", { deploymentId: 4 }),
    ];
    expect(await stepOf(events)).toEqual({
      intent: "done_for_now",
      message: "deployed backend, frontend at 0123456 to production",
    });
  });

  it("stops when a human rejected the approval", async () => {
    const production = deployStep("backend", "production");
    const events = [
      ...mergeStart(),
      ...deployRun("backend", "staging"),
      on.approvalRequested(production),
      on.approvalRejected("not during the sale"),
    ];
    expect(await stepOf(events)).toEqual({
      intent: "done_for_now",
      message: "stopped: the deploy of backend to production was rejected: not during the sale",
    });
  });

  it("stops rather than proposing a rollback again once a human rejected it", async () => {
    const events = [
      ...mergeStart(),
      on.deployed({ "backend/staging": PREVIOUS_SHA }),
      ...deployRun("backend", "staging", "failure"),
      on.approvalRequested(rollbackStep("backend", "staging")),
      on.approvalRejected("leave it, I am fixing forward"),
    ];
    expect(await stepOf(events)).toMatchObject({ intent: "done_for_now" });
  });

  it("asks what to deploy when the thread was not started by a merge", async () => {
    expect(await stepOf([on.configLoaded()])).toMatchObject({
      intent: "ask_human",
      question: "What should I deploy?",
    });
  });

  it("is done at once when the merge changed no component", async () => {
    expect(await stepOf(mergeStart({}))).toMatchObject({ intent: "done_for_now" });
  });
});

describe("the rules decider reading humans and facts", () => {
  const failedFirstDeploy = [
    ...mergeStart(),
    on.deployed({ "backend/staging": null }),
    ...deployRun("backend", "staging", "failure"),
    on.humanNeeded("The deploy of backend to staging failed. Retry, or stop?"),
  ];

  it("deploys the same again when a human answered retry after a failure", async () => {
    expect(await stepOf([...failedFirstDeploy, on.humanAnswered("flaky runner, retry it")])).toMatchObject({
      intent: "deploy_backend",
      environment: "staging",
      sha: MERGE_SHA,
    });
  });

  it("stops instead of asking again when a human answered stop after a failure", async () => {
    expect(await stepOf([...failedFirstDeploy, on.humanAnswered("stop, I'll look tomorrow")])).toMatchObject({
      intent: "done_for_now",
    });
  });

  it("follows a rejection that names another component first", async () => {
    const events = [
      ...mergeStart({ backend: ["api/cart.ts"], frontend: ["web/app.tsx"] }),
      ...deployRun("backend", "staging"),
      ...deployRun("frontend", "staging", "success", { deploymentId: 2 }),
      on.approvalRequested(deployStep("backend", "production")),
      on.approvalRejected("deploy the frontend first"),
    ];
    expect(await stepOf(events)).toMatchObject({ intent: "deploy_frontend", environment: "production" });
  });

  it("asks a human instead of deploying a commit whose CI failed", async () => {
    expect(await stepOf([...mergeStart(), on.ci("failure", "failing: unit")])).toMatchObject({
      intent: "ask_human",
      reason: "the commit's CI failed",
    });
  });

  it("does not deploy over a newer commit that contains the merge", async () => {
    const newer = "fedcba9876543210fedcba9876543210fedcba98";
    const events = [
      ...mergeStart(),
      on.deployed({ "backend/staging": newer }),
      newEvent("commits_compared", {
        base: newer,
        head: MERGE_SHA,
        status: "behind",
        ahead_by: 0,
        behind_by: 2,
      }),
    ];
    expect(await stepOf(events)).toMatchObject({ intent: "done_for_now" });
  });

  it("reads every message of a request thread, not only the latest", async () => {
    const events = [
      newEvent("chat_request", {
        text: "deploy to staging",
        slack_user: "U01OCTOCAT",
        channel: "C01DEPLOYS",
        ts: "1.2",
        source: "mention",
        requested_by: null,
        installation_id: 1,
        owner: "acme",
        repo: "shop",
      }),
      on.configLoaded(),
      newEvent("branch_head", { branch: "main", sha: PREVIOUS_SHA }),
      on.humanNeeded("Which component?"),
      on.humanAnswered("the frontend"),
    ];
    expect(await stepOf(events)).toMatchObject({
      intent: "deploy_frontend",
      environment: "staging",
      sha: PREVIOUS_SHA,
    });
  });
});
