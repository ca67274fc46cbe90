import { lastEnvironment, type RepoConfig } from "../config/repo-config.js";
import {
  lastOf,
  newEvent,
  type EventDataOf,
  type EventOf,
  type NewEvent,
  type Thread,
  type ThreadStatus,
} from "../thread/events.js";
import { changedComponents, deriveState } from "../thread/state.js";
import { viewOf, type ThreadView } from "../thread/view.js";
import type { AskHumanStep, DoneStep, NextStep } from "../thread/next-step.js";
import { nextNotification, type Notification } from "./notifications.js";
import { nextPrCommentSync, type PrCommentSync } from "./pr-comment.js";
import type { Verdict } from "./policy.js";
import { clip, short } from "../thread/text.js";
import { holdOfKey, verifyWaitKey } from "../thread/hold-keys.js";
import { verificationDue, type Verification, type VerificationDue } from "./verify-plan.js";

/**
 * The control flow, as pure functions: from a thread's events to the one thing to do next, and
 * from a policy verdict to the events that record it. The runner executes what these return.
 */

/** Unproductive answers (invalid, or refused by the policy) in a row before a human is asked. */
export const MAX_CONSECUTIVE_FAILURES = 3;

export type Plan =
  | { kind: "idle"; reason: string }
  | { kind: "wait"; status: ThreadStatus; waitingOn: string | null }
  | { kind: "create_deployment"; authorized: EventOf<"deploy_authorized"> }
  /** `deployments: actions`: dispatch the workflow; the deployment comes from its run. */
  | { kind: "dispatch_run"; authorized: EventOf<"deploy_authorized"> }
  | {
      kind: "run_timeout";
      authorized: EventOf<"deploy_authorized">;
      run: EventOf<"run_dispatched">;
      timeoutMs: number;
    }
  | {
      kind: "dispatch";
      authorized: EventOf<"deploy_authorized">;
      created: EventOf<"deployment_created">;
    }
  | { kind: "judge"; step: NextStep; approved: boolean; approvalId: string | null }
  | { kind: "finish"; message: string }
  | { kind: "escalate"; question: string; reason: string }
  | { kind: "decide"; config: RepoConfig }
  | { kind: "notify"; notification: Notification }
  | { kind: "expire_approval"; approvalId: string }
  | { kind: "deploy_timeout"; created: EventOf<"deployment_created">; timeoutMs: number }
  | { kind: "pr_comment"; sync: PrCommentSync }
  /** The environment's `verify` workflow, after a successful deploy there. */
  | { kind: "dispatch_verify"; verification: Verification }
  | { kind: "verify_timeout"; verification: Verification; timeoutMs: number }
  | {
      kind: "abandon_deployment";
      authorized: EventOf<"deploy_authorized">;
      created: EventOf<"deployment_created"> | null;
      reason: string;
    };

export interface PlanOptions {
  now: Date;
  /** Whether this thread posts to Slack (a bot token, and a channel in the repository's config). */
  notify: boolean;
  /** Whether threads keep a comment on their pull request up to date. */
  prComments?: boolean;
}

/** The one thing to do next, from the step's view of the thread (derived here from a bare thread). */
export function planNext(subject: ThreadView | Thread, options: PlanOptions): Plan {
  const view = "state" in subject ? subject : viewOf(subject);
  const plan = planStep(view, options);
  // The pull request comment is brought up to date when the thread settles, once per wait.
  if (options.prComments && (plan.kind === "wait" || plan.kind === "idle")) {
    const sync = view.config ? nextPrCommentSync(view.thread, view.config, view.state) : null;
    if (sync) return { kind: "pr_comment", sync };
  }
  return plan;
}

function planStep({ thread, state, config }: ThreadView, options: PlanOptions): Plan {
  const { events } = thread;
  if (options.notify && config?.slack) {
    const notification = nextNotification(events, options.now, state);
    if (notification) return { kind: "notify", notification };
  }
  if (state.terminal && state.inFlight && !state.inFlight.dispatched) {
    // A deployment created (or maybe created) for a step that will never run must not stay pending.
    const { authorized, created } = state.inFlight;
    const intended = events.some(
      (e) => e.type === "github_writing" && e.data.key === `deployment:${authorized.seq}`,
    );
    if (created || intended) {
      return {
        kind: "abandon_deployment",
        authorized,
        created,
        reason: `the thread was ${state.status} before the deploy was dispatched`,
      };
    }
  }
  if (state.terminal) return { kind: "idle", reason: `thread is ${state.status}` };
  if (!config) return { kind: "idle", reason: "thread has no configuration" };

  if (state.inFlight) {
    if (!state.inFlight.created && config.deployments === "actions") {
      const { authorized, runDispatched: run } = state.inFlight;
      if (!run) return { kind: "dispatch_run", authorized };
      const timeoutMs =
        config.environments.find((e) => e.name === authorized.data.environment)?.deploy_timeout ?? null;
      if (timeoutMs !== null && options.now.getTime() >= Date.parse(run.at) + timeoutMs) {
        return { kind: "run_timeout", authorized, run, timeoutMs };
      }
      return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
    }
    if (!state.inFlight.created) return { kind: "create_deployment", authorized: state.inFlight.authorized };
    if (!state.inFlight.dispatched) {
      return { kind: "dispatch", authorized: state.inFlight.authorized, created: state.inFlight.created };
    }
    const environment = config.environments.find(
      (e) => e.name === state.inFlight!.authorized.data.environment,
    );
    const timeoutMs = environment?.deploy_timeout ?? null;
    const dispatchedAt = Date.parse(state.inFlight.dispatched.at);
    if (timeoutMs !== null && options.now.getTime() >= dispatchedAt + timeoutMs) {
      return { kind: "deploy_timeout", created: state.inFlight.created, timeoutMs };
    }
    return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
  }
  const verification = verificationDue(events, config, options.now);
  if (verification && verification.kind !== "verifying") return verification;
  // A pause takes effect at the next decision point: a running deploy still finishes and is recorded.
  if (state.paused) return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
  const expiresAt = state.pendingApproval?.data.expires_at;
  if (state.pendingApproval && expiresAt && Date.parse(expiresAt) <= options.now.getTime()) {
    return { kind: "expire_approval", approvalId: state.pendingApproval.data.approval_id };
  }
  if (state.pendingApproval || state.pendingQuestion) {
    return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
  }
  if (state.approved) {
    return {
      kind: "judge",
      step: state.approved.step,
      approved: true,
      approvalId: state.approved.approvalId,
    };
  }
  if (state.deferred) {
    // A hold that ends at a known time, or with a verification still running, is judged again only
    // then: the sweep that looks at the thread meanwhile asks GitHub nothing.
    if (isStillHeld(state.deferred, thread.repo, verification, options.now)) {
      return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
    }
    return { kind: "judge", step: state.deferred.data.step, approved: false, approvalId: null };
  }
  if (state.unjudged)
    return { kind: "judge", step: state.unjudged.data.step, approved: false, approvalId: null };

  const finished = finishedMessage(thread, config, state.successes);
  // The last environment's verification is part of the deploy: the thread ends after it.
  if (finished && verification) return { kind: "wait", status: state.status, waitingOn: state.waitingOn };
  if (finished) return { kind: "finish", message: finished };

  if (state.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
    const last =
      lastOf(events, "decision_error")?.data.error ?? lastOf(events, "policy_refused")?.data.reason;
    return {
      kind: "escalate",
      question: "I could not choose a valid next step. What should I do?",
      reason: `${state.consecutiveFailures} unusable answers in a row; last: ${last ?? "unknown"}`.slice(
        0,
        1_000,
      ),
    };
  }
  return { kind: "decide", config };
}

/** Whether a deferred step still waits: its hold's `until` is ahead, or its verification runs. */
function isStillHeld(
  deferred: EventOf<"step_deferred">,
  repo: string,
  verification: VerificationDue | null,
  now: Date,
): boolean {
  const { until, lock_key: key } = deferred.data;
  if (until && Date.parse(until) > now.getTime()) return true;
  if (holdOfKey(key) !== "verify" || verification?.kind !== "verifying") return false;
  const { component, environment, sha } = verification.verification.finished.data;
  return key === verifyWaitKey(repo, component, environment, sha);
}

/** When every changed component reached the last environment at the merged SHA, code ends the thread. */
export function finishedMessage(
  thread: Thread,
  config: RepoConfig,
  successes = deriveState(thread.events).successes,
): string | null {
  const merged = lastOf(thread.events, "pr_merged");
  const components = changedComponents(thread.events);
  if (!merged || components.length === 0) return null;
  const last = lastEnvironment(config).name;
  const reached = components.every((component) =>
    successes.some(
      (s) => s.component === component && s.environment === last && s.sha === merged.data.merge_sha,
    ),
  );
  if (!reached) return null;
  return `Deployed ${components.join(" and ")} at ${short(merged.data.merge_sha)} to ${last}.`;
}

/**
 * The events that record a verdict on a step. `approvalId` names the approval to request when the
 * verdict needs one; a repeated `wait` on an already deferred step records nothing new unless the
 * hold changed (another key or end, or another reason for a manual lock, window, bake or verify).
 */
export function eventsForVerdict(
  step: NextStep,
  verdict: Verdict,
  options: { approvalId: string; deferred: EventDataOf<"step_deferred"> | null; expiresAt: string | null },
): NewEvent[] {
  switch (verdict.kind) {
    case "refuse":
      return [newEvent("policy_refused", { step, reason: verdict.reason })];
    case "wait": {
      const deferred = {
        step,
        reason: clip(verdict.reason, 500),
        lock_key: verdict.lockKey,
        ...(verdict.until ? { until: verdict.until.toISOString() } : {}),
      };
      return holdChanged(options.deferred, deferred) ? [newEvent("step_deferred", deferred)] : [];
    }
    case "needs_approval":
      return [
        newEvent("approval_requested", {
          approval_id: options.approvalId,
          step,
          expires_at: options.expiresAt,
          approvals_required: verdict.approvals_required,
          ...(verdict.why ? { why: clip(verdict.why, 500) } : {}),
        }),
      ];
    case "allow":
      if (verdict.action && verdict.lockKey) {
        return [
          newEvent("deploy_authorized", {
            step,
            kind: verdict.action.kind,
            component: verdict.action.component,
            environment: verdict.action.environment,
            sha: verdict.action.sha,
            lock_key: verdict.lockKey,
          }),
          // After the step's own event, whose seq is the step's idempotency key.
          ...(verdict.breakGlass
            ? [
                newEvent("break_glass_used", {
                  step,
                  by: verdict.breakGlass.by,
                  reason: verdict.breakGlass.reason,
                  channel: verdict.breakGlass.channel,
                  skipped: verdict.breakGlass.skipped,
                }),
              ]
            : []),
        ];
      }
      if (step.intent === "ask_human") {
        const ask = step as AskHumanStep;
        return [newEvent("human_needed", { question: ask.question, reason: ask.reason })];
      }
      if (step.intent === "done_for_now") {
        return [newEvent("done", { message: (step as DoneStep).message, by: "model" })];
      }
      return [newEvent("policy_refused", { step, reason: `intent ${step.intent} cannot run` })];
  }
}

/**
 * Whether a new deferral says something the recorded one does not. A CI wait's reason quotes the
 * checks as they go, so only another key or end counts for it (the sweep looks CI up again anyway).
 */
function holdChanged(
  recorded: EventDataOf<"step_deferred"> | null,
  next: EventDataOf<"step_deferred">,
): boolean {
  if (!recorded) return true;
  if (recorded.lock_key !== next.lock_key || recorded.until !== next.until) return true;
  return holdOfKey(next.lock_key) !== null && recorded.reason !== next.reason;
}
