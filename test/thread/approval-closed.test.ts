import { describe, expect, it } from "vitest";
import { nextNotification } from "../../src/agent/notifications.js";
import { newEvent, type NewEvent } from "../../src/thread/events.js";
import { approvalClosed } from "../../src/thread/approval-closed.js";
import { deployRun, deployStep, mergeStart, on, threadWith } from "../helpers/thread-builder.js";

/** Whether an approval can still be decided, judged at the moment it is given: a pure function. */

const step = deployStep("backend", "production");
const EXPIRES = "2026-11-25T12:00:00.000Z";
const requested = newEvent("approval_requested", { approval_id: "ap_1", step, expires_at: EXPIRES });
const open = [...mergeStart(), ...deployRun("backend", "staging"), on.decision(step), requested];
const before = new Date("2026-11-25T11:59:59.000Z");

function closedAt(events: NewEvent[], at = before) {
  return approvalClosed(threadWith(events).events, "ap_1", at);
}

describe("an approval judged when it is given", () => {
  it("is open before its expiry", () => {
    expect(closedAt(open)).toBeNull();
  });

  it("is closed from its expiry on, though no expiry was recorded", () => {
    expect(closedAt(open, new Date(EXPIRES))).toEqual({
      kind: "expired",
      reason: `it expired at ${EXPIRES}`,
    });
  });

  it("never expires when it has no expiry", () => {
    const forever = newEvent("approval_requested", { approval_id: "ap_1", step, expires_at: null });
    expect(closedAt([...open.slice(0, -1), forever], new Date("2030-01-01T00:00:00Z"))).toBeNull();
  });

  it("is closed on a cancelled thread, saying by whom and why", () => {
    expect(closedAt([...open, newEvent("cancelled", { by: "api:ci", reason: "wrong PR" })])).toEqual({
      kind: "thread_ended",
      reason: "the thread was cancelled by api:ci: wrong PR",
    });
  });

  it("is closed on a finished or superseded thread, with its message", () => {
    const superseded = newEvent("done", { message: "Superseded by #8 (abcdef0), merged later.", by: "code" });
    expect(closedAt([...open, superseded])?.reason).toBe(
      "the thread is finished: Superseded by #8 (abcdef0), merged later.",
    );
  });

  it("is closed on a failed thread", () => {
    expect(closedAt([...open, newEvent("failed", { reason: "config invalid" })])?.reason).toBe(
      "the thread stopped: config invalid",
    );
  });

  it("is closed once decided, naming who decided", () => {
    expect(closedAt([...open, on.approvalGranted("ap_1", "U01APPROVER")])).toEqual({
      kind: "decided",
      reason: "it was already approved by U01APPROVER",
    });
    expect(closedAt([...open, on.approvalRejected("no", "ap_1", "U02RELEASER")])?.reason).toBe(
      "it was already rejected by U02RELEASER",
    );
  });

  it("is closed once its expiry was recorded", () => {
    expect(closedAt([...open, newEvent("approval_expired", { approval_id: "ap_1" })])?.kind).toBe("expired");
  });

  it("is unknown when the thread never requested it", () => {
    expect(approvalClosed(threadWith(open).events, "ap_other", before)?.kind).toBe("unknown");
  });
});

describe("the card of an approval open when its thread ends", () => {
  // A thread asked for production approval straight away: no progress replies owed before the card.
  const waiting = [...mergeStart(), on.decision(step), requested];
  const card = newEvent("slack_posted", {
    key: "approval:ap_1",
    purpose: "approval",
    channel: "C01DEPLOYS",
    ts: "1700000003.000100",
    error: null,
  });

  it("is updated with the event that ended the thread", () => {
    const thread = threadWith([...waiting, card, newEvent("cancelled", { by: "api:ci", reason: null })]);
    const notification = nextNotification(thread.events, new Date("2026-11-24T13:00:00Z"));
    expect(notification).toMatchObject({
      kind: "approval_update",
      key: "approval_update:ap_1",
      outcome: { type: "cancelled" },
    });
  });

  it("gets no reminder once the thread ended, even in the reminder's window", () => {
    const thread = threadWith([...waiting, card, newEvent("cancelled", { by: "api:ci", reason: null })]);
    const notification = nextNotification(thread.events, before);
    expect(notification?.kind).toBe("approval_update");
  });

  it("is left alone once it was updated", () => {
    const updated = newEvent("slack_posted", {
      key: "approval_update:ap_1",
      purpose: "approval_update",
      channel: "C01DEPLOYS",
      ts: "1700000003.000100",
      error: null,
    });
    const thread = threadWith([
      ...open,
      card,
      newEvent("cancelled", { by: "api:ci", reason: null }),
      updated,
    ]);
    // What remains owed is the cancellation's progress reply, under a first message.
    expect(nextNotification(thread.events, before)?.kind).toBe("root");
  });
});
