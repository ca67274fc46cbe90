import { deciderLabel, eventsOf, type ThreadEvent } from "./events.js";
import { deriveState, type ThreadState } from "./state.js";
import { threadEndedReason } from "./status.js";

/** Why an approval can no longer be decided. */
export interface ApprovalClosed {
  kind: "unknown" | "thread_ended" | "decided" | "replaced" | "expired";
  /** For the person who clicked: "the thread was cancelled by api:ci", "it expired at …". */
  reason: string;
}

/**
 * Judges an approval at the moment it is given (`at`, when the click reached deploybot), from the
 * thread's events alone: closed once the thread ended (cancelled, done, failed, superseded), once
 * it was decided or replaced, and from its `expires_at` on, whether or not the expiry has been
 * recorded yet. Null while it is open.
 */
export function approvalClosed(
  events: readonly ThreadEvent[],
  approvalId: string,
  at: Date,
  state: ThreadState = deriveState(events),
): ApprovalClosed | null {
  const request = eventsOf(events, "approval_requested").find((e) => e.data.approval_id === approvalId);
  if (!request) return { kind: "unknown", reason: "deploybot has no such approval" };
  const ended = state.terminal;
  if (ended) return { kind: "thread_ended", reason: threadEndedReason(ended) };
  const granted: ThreadEvent[] = [];
  for (const event of events) {
    if (
      (event.type === "approval_rejected" || event.type === "approval_expired") &&
      event.data.approval_id === approvalId
    ) {
      if (event.type === "approval_expired") {
        return { kind: "expired", reason: `it expired at ${request.data.expires_at ?? event.at}` };
      }
      return { kind: "decided", reason: `it was already rejected by ${deciderLabel(event.data)}` };
    }
    if (event.type === "approval_granted" && event.data.approval_id === approvalId) granted.push(event);
  }
  const pending = state.pendingApproval?.data.approval_id === approvalId;
  if (!pending && granted.length > 0) {
    const by = granted.map((e) => (e.type === "approval_granted" ? deciderLabel(e.data) : "")).join(", ");
    return { kind: "decided", reason: `it was already approved by ${by}` };
  }
  if (state.pendingApproval?.data.approval_id !== approvalId) {
    return { kind: "replaced", reason: "a newer request replaced it" };
  }
  const expiresAt = request.data.expires_at;
  if (expiresAt && Date.parse(expiresAt) <= at.getTime()) {
    return { kind: "expired", reason: `it expired at ${expiresAt}` };
  }
  return null;
}
