import { holdOfKey } from "./hold-keys.js";
import { quorumText } from "./quorum.js";
import type { EventOf, ThreadStatus } from "./events.js";
import type { ThreadState } from "./state.js";
import { clip, short } from "./text.js";

/**
 * The thread's status and, in words, what it waits for, from its derived state; and how an ended
 * thread ended.
 */

/** The status a derived state amounts to, what it waits for, and the manual lock it waits on (if any). */
export function statusOf(state: ThreadState): {
  status: ThreadStatus;
  waitingOn: string | null;
  waitingLock?: string | null;
} {
  if (state.terminal) {
    const status =
      state.terminal.type === "done" ? "done" : state.terminal.type === "failed" ? "failed" : "cancelled";
    return { status, waitingOn: null };
  }
  if (state.paused && !state.inFlight) {
    return { status: "paused", waitingOn: `a resume (paused by ${state.paused.data.by})` };
  }
  if (state.inFlight && state.inFlight.dispatched) {
    const a = state.inFlight.authorized.data;
    return {
      status: "waiting_for_deploy",
      waitingOn: `${a.kind} of ${a.component} ${short(a.sha)} to ${a.environment} (deployment ${state.inFlight.dispatched.data.deployment_id})`,
    };
  }
  if (state.inFlight?.runDispatched && !state.inFlight.created) {
    const a = state.inFlight.authorized.data;
    return {
      status: "waiting_for_deploy",
      waitingOn: `${a.kind} of ${a.component} ${short(a.sha)} to ${a.environment} (run ${state.inFlight.runDispatched.data.run_id}, its deployment not created yet)`,
    };
  }
  if (state.outage) {
    const name = state.outage.data.service === "github" ? "GitHub" : "Slack";
    return {
      status: "running",
      waitingOn: `${name} to answer again (${clip(state.outage.data.error, 120)})`,
    };
  }
  if (state.inFlight) return { status: "running", waitingOn: null };
  if (state.pendingApproval) {
    return {
      status: "waiting_for_approval",
      waitingOn: `approval ${state.pendingApproval.data.approval_id}${
        state.approvals && state.approvals.required > 1 ? ` (${quorumText(state.approvals)})` : ""
      }`,
    };
  }
  if (state.pendingQuestion) return { status: "waiting_for_human", waitingOn: "an answer from a human" };
  if (state.deferred) {
    const key = state.deferred.data.lock_key;
    // A manual lock, a window or freeze, a bake or a verification: the reason says what and until when.
    // A manual lock's key finds the thread again when the lock is lifted (threadsWaitingForLock).
    const hold = holdOfKey(key);
    if (hold) {
      const waitingLock = hold === "manual" ? key : null;
      return { status: "waiting_for_lock", waitingOn: state.deferred.data.reason, waitingLock };
    }
    // A step waiting for CI holds no lock: it is looked up again by the recovery sweep.
    const ciSha = key.startsWith("ci:") ? key.slice(key.lastIndexOf(":") + 1) : null;
    return {
      status: "waiting_for_lock",
      waitingOn: ciSha ? `CI of ${short(ciSha)} to pass` : `lock ${key}`,
      waitingLock: ciSha ? null : key,
    };
  }
  if (state.verifying) {
    const v = state.verifying.data;
    const run = v.run_id !== null ? ` (run ${v.run_id})` : "";
    return {
      status: "waiting_for_deploy",
      waitingOn: `the verification ${v.workflow} of ${v.component} ${short(v.sha)} in ${v.environment}${run}`,
    };
  }
  return { status: "running", waitingOn: null };
}

/** How a thread ended, in a few words: "the thread was cancelled by api:ci: wrong branch". */
export function threadEndedReason(ended: EventOf<"done"> | EventOf<"failed"> | EventOf<"cancelled">): string {
  switch (ended.type) {
    case "cancelled":
      return `the thread was cancelled by ${ended.data.by}${ended.data.reason ? `: ${ended.data.reason}` : ""}`;
    case "done":
      return `the thread is finished: ${ended.data.message}`;
    case "failed":
      return `the thread stopped: ${ended.data.reason}`;
  }
}
