import type { EnvironmentSettings } from "../../config/repo-config.js";
import type { DeployAction } from "../../thread/next-step.js";
import { bakeWaitKey, manualLockWaitKey, verifyWaitKey, windowWaitKey } from "../../thread/hold-keys.js";
import { deciderLabel } from "../../thread/events.js";
import { quotedLine } from "../../thread/text.js";
import type { PolicyFacts, Verdict } from "../policy.js";
import { promotionReadiness } from "./bake.js";
import { breakGlassVerdict, type BreakGlass } from "./break-glass.js";
import { manualLockOn, manualLockText } from "./manual-locks.js";
import { requestExpiresAt, tallyApprovals } from "../../thread/quorum.js";
import { closedReason, type Closed } from "./windows.js";

/**
 * The deploy-safety rules as verdicts, for `judge`: manual locks, verification, bake, deploy
 * windows and freezes (held: wait, or ask for approval, per `when_closed`), quorum and break-glass.
 * Each fact they read is optional, and an absent one restricts nothing.
 */

/** What break-glass skipped, for the record: approval, freeze, window, bake. */
export type Skipped = "approval" | "freeze" | "window" | "bake";

export interface BreakGlassUse extends BreakGlass {
  skipped: Skipped[];
}

/** The rules' reading of one step, computed once. */
export interface Safety {
  environment: EnvironmentSettings;
  /** The declared break-glass, when its declarer may use it. */
  breakGlass: BreakGlass | null;
  skipped: Skipped[];
  /** Why the environment takes no deploy now (windows, freezes); null when open or not judged. */
  closed: Closed | null;
}

/**
 * Refusals and holds that come before deploybot's own lock: an ineligible break-glass, a failed or
 * pending verification, a manual lock, a bake, a closed window or a freeze (when_closed: wait).
 */
export function judgeHolds(
  action: DeployAction,
  environment: EnvironmentSettings,
  previous: EnvironmentSettings | null,
  facts: PolicyFacts,
): { verdict: Verdict | null; safety: Safety } {
  const safety: Safety = { environment, breakGlass: null, skipped: [], closed: null };
  const declared = facts.breakGlass ?? null;
  if (declared) {
    const eligible = breakGlassVerdict(facts.config, environment, declared);
    if (!eligible.ok) return { verdict: { kind: "refuse", reason: eligible.reason }, safety };
    safety.breakGlass = declared;
  }
  const { repo } = facts;
  const lock = manualLockOn(facts.manualLocks ?? [], { repo, ...action });
  if (lock) {
    const reason = `${manualLockText(lock)}; the step waits until it is unlocked`;
    const lockKey = manualLockWaitKey(repo, action.component, action.environment);
    return { verdict: { kind: "wait", action, lockKey, reason }, safety };
  }
  if (action.kind !== "deploy") return { verdict: null, safety };

  if (previous && facts.promotion && facts.now) {
    const input = {
      from: previous,
      component: action.component,
      sha: action.sha,
      succeededAt: facts.promotion.succeededAt,
      verification: facts.promotion.verification,
      now: facts.now,
    };
    const readiness = promotionReadiness({ ...input, skipBake: safety.breakGlass !== null });
    if (readiness.kind === "verification_failed") {
      return { verdict: { kind: "refuse", reason: readiness.reason }, safety };
    }
    if (readiness.kind === "verifying") {
      const lockKey = verifyWaitKey(repo, action.component, previous.name, action.sha);
      return { verdict: { kind: "wait", action, lockKey, reason: readiness.reason }, safety };
    }
    if (readiness.kind === "baking") {
      const lockKey = bakeWaitKey(repo, action.component, action.environment);
      const { reason, until } = readiness;
      return { verdict: { kind: "wait", action, lockKey, reason, until }, safety };
    }
    if (safety.breakGlass && promotionReadiness(input).kind === "baking") safety.skipped.push("bake");
  }

  const closed = facts.now ? closedReason(environment, facts.now) : null;
  safety.closed = closed;
  if (closed && safety.breakGlass) {
    safety.skipped.push(closed.cause);
  } else if (closed && environment.when_closed === "wait") {
    const lockKey = windowWaitKey(repo, action.environment);
    const reason = `${closed.reason}; the step waits`;
    const until = closed.until ?? undefined;
    return { verdict: { kind: "wait", action, lockKey, reason, ...(until ? { until } : {}) }, safety };
  }
  return { verdict: null, safety };
}

/**
 * The approval rule, after every hold: approval when the environment asks for it (for this kind of
 * step, or because a deploy comes outside its windows with when_closed: approval), by a quorum of
 * distinct people; break-glass runs the step without it.
 */
export function judgeApproval(
  action: DeployAction,
  lockKey: string,
  safety: Safety,
  facts: PolicyFacts,
): Verdict {
  const { environment, closed } = safety;
  const setting =
    action.kind === "rollback"
      ? (environment.rollback_approval ?? environment.approval)
      : environment.approval;
  const why = closed && environment.when_closed === "approval" ? closed.reason : null;
  if (setting !== "required" && !why) return { kind: "allow", action, lockKey, ...used(safety) };
  if (safety.breakGlass) {
    safety.skipped.push("approval");
    return { kind: "allow", action, lockKey, ...used(safety) };
  }
  const required = environment.approvals_required;
  let approvals = facts.approved ? 1 : 0;
  if (facts.approvals) {
    const quorum = tallyApprovals({
      config: facts.config,
      required,
      answers: facts.approvals.answers,
      prAuthor: facts.approvals.prAuthor,
      expiresAt: facts.approvals.requestedAt
        ? requestExpiresAt(facts.approvals.requestedAt, environment.approval_expires_after)
        : null,
    });
    if (quorum.rejection) {
      const r = quorum.rejection;
      return {
        kind: "refuse",
        reason: `${deciderLabel(r)} rejected this ${action.kind} of ${action.component} to ${action.environment}: ${quotedLine(r.reason ?? "")}; change the plan or ask a human`,
      };
    }
    approvals = quorum.count;
  }
  if (approvals >= required) return { kind: "allow", action, lockKey };
  const asked =
    setting === "required" ? `${action.environment} requires approval for a ${action.kind}` : (why ?? "");
  return {
    kind: "needs_approval",
    action,
    reason: required > 1 ? `${asked} (${approvals} of ${required} approvals)` : asked,
    approvals_required: required,
    approvals,
    ...(why ? { why } : {}),
  };
}

function used(safety: Safety): { breakGlass?: BreakGlassUse } {
  return safety.breakGlass && safety.skipped.length > 0
    ? { breakGlass: { ...safety.breakGlass, skipped: safety.skipped } }
    : {};
}
