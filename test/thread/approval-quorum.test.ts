import { describe, expect, it } from "vitest";
import { eventsForVerdict, planNext } from "../../src/agent/loop.js";
import { newEvent, type NewEvent } from "../../src/thread/events.js";
import { deployActionOf } from "../../src/thread/next-step.js";
import { approvalClosed } from "../../src/thread/approval-closed.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deployRun,
  deployStep,
  mergeStart,
  on,
  SAMPLE_CONFIG_YAML,
  threadWith,
} from "../helpers/thread-builder.js";

/** A request that needs two distinct approvers: each approval is an event; the quorum closes it. */

const step = deployStep("backend", "production");
const QUORUM_YAML = SAMPLE_CONFIG_YAML.replace(
  "    approval_expires_after: 24h\n",
  "    github_approvers: [hubot, monalisa]\n    approvals_required: 2\n    approval_expires_after: 24h\n",
).replace("  octocat: U01OCTOCAT\n", "  octocat: U01OCTOCAT\n  monalisa: U02MONA\n");
const requested = newEvent("approval_requested", {
  approval_id: "ap_1",
  step,
  expires_at: null,
  approvals_required: 2,
});
const open: NewEvent[] = [
  on.prMerged(),
  on.configLoaded(QUORUM_YAML),
  ...mergeStart().slice(2),
  ...deployRun("backend", "staging"),
  on.decision(step),
  requested,
];
const byGitHub = (login: string) =>
  newEvent("approval_granted", { approval_id: "ap_1", by: login, channel: "github", slack_user: null });

function stateOf(events: NewEvent[]) {
  return deriveState(threadWith(events).events);
}

describe("an approval that needs two approvers", () => {
  it("stays pending after the first approval and says how far it got", () => {
    const state = stateOf([...open, on.approvalGranted("ap_1", "U01APPROVER")]);
    expect(state.pendingApproval?.data.approval_id).toBe("ap_1");
    expect(state.approved).toBeNull();
    expect(state.approvals).toEqual({ approvalId: "ap_1", required: 2, count: 1, counted: ["U01APPROVER"] });
    expect(state.waitingOn).toBe("approval ap_1 (1 of 2 approvals)");
  });

  it("is approved once a second person approves on another channel", () => {
    const state = stateOf([...open, on.approvalGranted("ap_1", "U01APPROVER"), byGitHub("hubot")]);
    expect(state.pendingApproval).toBeNull();
    expect(state.approved).toEqual({ step, approvalId: "ap_1" });
    expect(state.approvals?.counted).toEqual(["U01APPROVER", "hubot (GitHub)"]);
  });

  it("counts a person once across channels (users: maps the login to the Slack id)", () => {
    const state = stateOf([...open, on.approvalGranted("ap_1", "U02MONA"), byGitHub("monalisa")]);
    expect(state.approvals?.count).toBe(1);
    expect(state.pendingApproval?.data.approval_id).toBe("ap_1");
  });

  it("stays open to a decision after one approval, and is closed once approved by both", () => {
    const one = [...open, on.approvalGranted("ap_1", "U01APPROVER")];
    expect(approvalClosed(threadWith(one).events, "ap_1", new Date("2030-01-01T00:00:00Z"))).toBeNull();
    expect(approvalClosed(threadWith([...one, byGitHub("hubot")]).events, "ap_1", new Date())).toEqual({
      kind: "decided",
      reason: "it was already approved by U01APPROVER, hubot (GitHub)",
    });
  });

  it("is closed by a rejection after one approval, naming who rejected", () => {
    const events = [
      ...open,
      on.approvalGranted("ap_1", "U01APPROVER"),
      on.approvalRejected("no", "ap_1", "U02OTHER"),
    ];
    expect(stateOf(events).pendingApproval).toBeNull();
    expect(approvalClosed(threadWith(events).events, "ap_1", new Date())?.reason).toBe(
      "it was already rejected by U02OTHER",
    );
  });

  it("waits after one approval and judges the step after the second", () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const one = threadWith([...open, on.approvalGranted("ap_1", "U01APPROVER")]);
    expect(planNext(one, { now, notify: false }).kind).toBe("wait");
    const two = threadWith([...open, on.approvalGranted("ap_1", "U01APPROVER"), byGitHub("hubot")]);
    expect(planNext(two, { now, notify: false })).toMatchObject({ kind: "judge", approved: true });
  });

  it("is recorded with the number of approvers it needs", () => {
    const [event] = eventsForVerdict(
      step,
      {
        kind: "needs_approval",
        action: deployActionOf(step)!,
        reason: "production requires approval",
        approvals_required: 2,
        approvals: 0,
      },
      { approvalId: "ap_2", deferred: null, expiresAt: null },
    );
    expect(event).toMatchObject({ type: "approval_requested", data: { approvals_required: 2 } });
  });
});
