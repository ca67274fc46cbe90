import type { NextStep } from "./next-step.js";
import { RepoConfigSchema, type RepoConfig } from "../config/repo-config.js";
import { progressAfter, type ApprovalProgress } from "./approval-progress.js";
import type { ApprovalAnswer } from "./quorum.js";
import { statusOf } from "./status.js";
import { lastOf, type EventOf, type ThreadEvent, type ThreadStatus } from "./events.js";

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
        state.approvals = progressAfter(configOf(events), event, answers, prAuthor);
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
        state.approvals = progressAfter(configOf(events), pending, answers, prAuthor);
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
