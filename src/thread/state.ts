import type { NextStep } from "./next-step.js";
import { RepoConfigSchema, type RepoConfig } from "../config/repo-config.js";
import { holdOfKey } from "./hold-keys.js";
import { quorumText, tallyApprovals, type ApprovalAnswer } from "./quorum.js";
import {
  deciderLabel,
  eventsOf,
  lastOf,
  type EventOf,
  type ThreadEvent,
  type ThreadStatus,
} from "./events.js";

/**
 * Execution state, derived from the events alone (a pure fold): what is in flight, what the thread
 * waits for, how many unproductive decisions happened in a row. Nothing here is stored beside the
 * events; any process can recompute it after any crash.
 */
export interface ThreadState {
  status: ThreadStatus;
  /** A short human-readable description of what the thread waits for, or null. */
  waitingOn: string | null;
  /** The deploy lock's key while the status is waiting_for_lock on a lock (not on CI), else null. */
  waitingLock: string | null;
  inFlight: {
    authorized: EventOf<"deploy_authorized">;
    created: EventOf<"deployment_created"> | null;
    dispatched: EventOf<"deploy_dispatched"> | null;
    /** `deployments: actions`: the run dispatched, its deployment not adopted yet. */
    runDispatched?: EventOf<"run_dispatched"> | null;
  } | null;
  pendingApproval: EventOf<"approval_requested"> | null;
  pendingQuestion: EventOf<"human_needed"> | null;
  /** A step a human approved that has not run yet. */
  approved: { step: NextStep; approvalId: string } | null;
  /**
   * The quorum of the pending approval (or of the last approved one): distinct people who approved
   * it so far, as people read them, and how many it needs. Null when no approval was asked.
   */
  approvals: ApprovalProgress | null;
  deferred: EventOf<"step_deferred"> | null;
  /** The last decision, when no verdict on it has been recorded yet. */
  unjudged: EventOf<"decision"> | null;
  /** decision errors and policy refusals since the last productive step. */
  consecutiveFailures: number;
  /** Successful deploys made by this thread. */
  successes: { component: string; environment: string; sha: string }[];
  terminal: EventOf<"done"> | EventOf<"failed"> | EventOf<"cancelled"> | null;
  paused: EventOf<"paused"> | null;
  /** The service the last step could not reach, until any later event shows progress. */
  outage: EventOf<"service_unavailable"> | null;
  /** A verification dispatched after a deploy whose result has not come yet. */
  verifying?: EventOf<"verify_dispatched"> | null;
}

/** How far an approval request got: "1 of 2 approvals", and who gave them. */
export interface ApprovalProgress {
  approvalId: string;
  required: number;
  count: number;
  /** Who counted, first answer of each person ("U01APPROVER", "octocat (GitHub)"). */
  counted: string[];
}

/** The quorum of a request after one more approval: one person counts once, across channels. */
function progressAfter(
  events: readonly ThreadEvent[],
  request: EventOf<"approval_requested">,
  answers: ApprovalAnswer[],
  prAuthor: string | null,
): ApprovalProgress {
  const required = request.data.approvals_required ?? 1;
  const config = configOf(events);
  const quorum = config
    ? tallyApprovals({ config, required, answers, prAuthor, expiresAt: null })
    : { count: answers.length, counted: answers.map((a) => deciderLabel(a)) };
  return { approvalId: request.data.approval_id, required, count: quorum.count, counted: quorum.counted };
}

export function deriveState(events: readonly ThreadEvent[]): ThreadState {
  let answers: ApprovalAnswer[] = [];
  let prAuthor: string | null = null;
  const state: ThreadState = {
    status: "running",
    waitingOn: null,
    waitingLock: null,
    inFlight: null,
    pendingApproval: null,
    pendingQuestion: null,
    approved: null,
    approvals: null,
    deferred: null,
    unjudged: null,
    consecutiveFailures: 0,
    successes: [],
    terminal: null,
    outage: null,
    paused: null,
  };
  for (const event of events) {
    state.outage = event.type === "service_unavailable" ? event : null;
    switch (event.type) {
      case "decision":
        state.unjudged = event;
        state.deferred = null;
        state.approved = null;
        break;
      case "decision_error":
        state.consecutiveFailures += 1;
        break;
      case "policy_refused":
        state.unjudged = null;
        state.deferred = null;
        state.approved = null;
        state.consecutiveFailures += 1;
        break;
      case "step_deferred":
        state.unjudged = null;
        state.deferred = event;
        state.consecutiveFailures = 0;
        break;
      case "pr_merged":
      case "pr_found":
        prAuthor = event.data.author;
        break;
      case "approval_requested":
        state.unjudged = null;
        state.pendingApproval = event;
        state.consecutiveFailures = 0;
        answers = [];
        state.approvals = progressAfter(events, event, answers, prAuthor);
        break;
      case "approval_granted": {
        const pending = state.pendingApproval;
        if (pending?.data.approval_id !== event.data.approval_id) break;
        // Each approval is its own event; the request stays pending until its quorum is reached.
        answers.push({
          decision: "approve",
          by: event.data.by,
          channel: event.data.channel,
          at: new Date(event.at),
        });
        state.approvals = progressAfter(events, pending, answers, prAuthor);
        if (state.approvals.count >= state.approvals.required) {
          state.approved = { step: pending.data.step, approvalId: event.data.approval_id };
          state.pendingApproval = null;
        }
        break;
      }
      case "approval_rejected":
      case "approval_expired":
        if (state.pendingApproval?.data.approval_id === event.data.approval_id) state.pendingApproval = null;
        break;
      case "deploy_authorized":
        state.unjudged = null;
        state.deferred = null;
        state.approved = null;
        state.consecutiveFailures = 0;
        state.inFlight = { authorized: event, created: null, dispatched: null };
        break;
      case "deployment_created":
        if (state.inFlight) state.inFlight.created = event;
        break;
      case "deploy_dispatched":
        if (state.inFlight) state.inFlight.dispatched = event;
        break;
      case "run_dispatched":
        if (state.inFlight) state.inFlight.runDispatched = event;
        break;
      case "deploy_finished":
        state.inFlight = null;
        if (event.data.outcome === "success") {
          state.successes.push({
            component: event.data.component,
            environment: event.data.environment,
            sha: event.data.sha,
          });
        }
        break;
      case "human_needed":
        state.unjudged = null;
        state.pendingQuestion = event;
        state.consecutiveFailures = 0;
        break;
      case "human_answered":
        state.pendingQuestion = null;
        break;
      case "done":
      case "failed":
      case "cancelled":
        state.terminal = event;
        break;
      case "paused":
        state.paused = event;
        break;
      case "resumed":
        state.paused = null;
        break;
      case "verify_dispatched":
        state.verifying = event;
        break;
      case "verify_finished":
        state.verifying = null;
        break;
      default:
        break;
    }
  }
  const { status, waitingOn, waitingLock = null } = statusOf(state);
  state.status = status;
  state.waitingOn = waitingOn;
  state.waitingLock = waitingLock;
  return state;
}

function statusOf(state: ThreadState): {
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
      waitingOn: `${a.kind} of ${a.component} ${a.sha.slice(0, 7)} to ${a.environment} (deployment ${state.inFlight.dispatched.data.deployment_id})`,
    };
  }
  if (state.inFlight?.runDispatched && !state.inFlight.created) {
    const a = state.inFlight.authorized.data;
    return {
      status: "waiting_for_deploy",
      waitingOn: `${a.kind} of ${a.component} ${a.sha.slice(0, 7)} to ${a.environment} (run ${state.inFlight.runDispatched.data.run_id}, its deployment not created yet)`,
    };
  }
  if (state.outage) {
    const name = state.outage.data.service === "github" ? "GitHub" : "Slack";
    return {
      status: "running",
      waitingOn: `${name} to answer again (${state.outage.data.error.slice(0, 120)})`,
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
      waitingOn: ciSha ? `CI of ${ciSha.slice(0, 7)} to pass` : `lock ${key}`,
      waitingLock: ciSha ? null : key,
    };
  }
  if (state.verifying) {
    const v = state.verifying.data;
    const run = v.run_id !== null ? ` (run ${v.run_id})` : "";
    return {
      status: "waiting_for_deploy",
      waitingOn: `the verification ${v.workflow} of ${v.component} ${v.sha.slice(0, 7)} in ${v.environment}${run}`,
    };
  }
  return { status: "running", waitingOn: null };
}

/** Configs already parsed, by the event that loaded them: a thread's config is parsed once. */
const parsedConfigs = new WeakMap<ThreadEvent, RepoConfig>();

/** The repository config as it was when the thread started. */
export function configOf(events: readonly ThreadEvent[]): RepoConfig | null {
  const loaded = lastOf(events, "config_loaded");
  if (!loaded) return null;
  let config = parsedConfigs.get(loaded);
  if (!config) {
    config = RepoConfigSchema.parse(loaded.data.source);
    parsedConfigs.set(loaded, config);
  }
  return config;
}

/** Components this thread's trigger changed. */
export function changedComponents(events: readonly ThreadEvent[]): string[] {
  return lastOf(events, "changes_classified")?.data.components.map((c) => c.name) ?? [];
}

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
