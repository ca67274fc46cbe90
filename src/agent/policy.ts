import { environmentIndex, type RepoConfig } from "../config/repo-config.js";
import { clip, quotedLine, short } from "../thread/text.js";
import type { CommitComparison, RejectedStep, RunningVersion, VersionSource } from "../thread/versions.js";
import { deployActionOf, type DeployAction, type NextStep } from "../thread/next-step.js";
import type { VerificationFact } from "./policy/bake.js";
import type { BreakGlass } from "./policy/break-glass.js";
import type { ManualLock } from "./policy/manual-locks.js";
import type { ApprovalAnswer } from "../thread/quorum.js";
import { judgeApproval, judgeHolds, type BreakGlassUse } from "./policy/safety.js";

/**
 * The policy: code that judges every proposed step before it runs. The model can propose; only
 * this lets a step run. Pure: every fact it needs is passed in.
 */

export type { CommitComparison, RejectedStep, RunningVersion, VersionSource };

/** The CI state of a commit, as the thread last recorded it. */
export interface CiFact {
  sha: string;
  state: "success" | "failure" | "pending" | "none";
  summary: string;
}

export interface PolicyFacts {
  repo: string; // owner/name
  config: RepoConfig;
  /** The merged commit this thread deploys, when the trigger was a merge. */
  mergeSha: string | null;
  /** Components the trigger changed; null when the trigger names no change set (e.g. a chat request). */
  changedComponents: string[] | null;
  /** Every deploy known to have succeeded: this thread's, deploybot's history, GitHub's. */
  successes: { component: string; environment: string; sha: string }[];
  /** The thread holding the lock of the step's component and environment, if any. */
  lockHolder: string | null;
  threadId: string;
  /** A human already approved exactly this step. */
  approved: boolean;
  /** What runs now at the step's component and environment, by the newest source; null if unknown. */
  running: RunningVersion | null;
  /** The CI state of the step's commit, looked up just before judging; null if not known. */
  ci: CiFact | null;
  /** How the step's commit compares with the running one (base: running, head: the step's). */
  comparison: CommitComparison | null;
  /** Steps humans rejected in this thread. */
  rejected: RejectedStep[];
  // Deploy safety. Each fact is optional; an absent one restricts nothing.
  /** The time of judging: deploy windows, freezes and bake are judged only when it is given. */
  now?: Date;
  /** The repository's manual locks (any place; the step's own are picked out). */
  manualLocks?: readonly ManualLock[];
  /** The step's commit in the environment before the step's: when it succeeded, its verification. */
  promotion?: { succeededAt: Date | null; verification: VerificationFact | null };
  /** A break-glass declared on the step. */
  breakGlass?: BreakGlass | null;
  /**
   * The answers to the step's approval request, for the quorum (`approvals_required`); without
   * them, `approved` counts as one approval.
   */
  approvals?: { answers: readonly ApprovalAnswer[]; prAuthor: string | null; requestedAt: Date | null };
}

export type Verdict =
  | {
      kind: "allow";
      action: DeployAction | null;
      lockKey: string | null;
      /** Break-glass let this step skip these rules: record it loudly. */
      breakGlass?: BreakGlassUse;
    }
  | {
      kind: "needs_approval";
      action: DeployAction;
      reason: string;
      /** Distinct approvers needed, and how many approved so far. */
      approvals_required: number;
      approvals: number;
      /** Why approval is asked beyond the environment's setting, e.g. outside the deploy windows. */
      why?: string;
    }
  | {
      kind: "wait";
      action: DeployAction;
      lockKey: string;
      reason: string;
      /** When the hold ends by itself (a window opens, a freeze or a bake ends): wake the thread then. */
      until?: Date;
    }
  | { kind: "refuse"; reason: string };

export function lockKeyOf(repo: string, component: string, environment: string): string {
  return `${repo}:${component}:${environment}`;
}

/** The key a step waiting for CI defers on: no lock, the recovery sweep looks again. */
export function ciWaitKey(repo: string, sha: string): string {
  return `ci:${repo}:${sha}`;
}

const SOURCE_TEXT: Record<VersionSource, string> = {
  this_thread: "this thread deployed it",
  deploybot: "deploybot's history",
  github: "GitHub's deployments",
};

function sameAction(a: DeployAction, b: DeployAction): boolean {
  return (
    a.kind === b.kind && a.component === b.component && a.environment === b.environment && a.sha === b.sha
  );
}

/** The CI rule of the environment, for a deploy (rollbacks go to a commit that already ran). */
function judgeCi(
  action: DeployAction,
  mode: "passing" | "not_failing" | "ignore",
  facts: PolicyFacts,
): Verdict | null {
  if (mode === "ignore" || action.kind !== "deploy") return null;
  const ci = facts.ci?.sha === action.sha ? facts.ci : null;
  const state = ci?.state ?? "pending";
  const summary = ci?.summary ? ` (${clip(ci.summary, 120)})` : "";
  if (state === "failure") {
    return {
      kind: "refuse",
      reason: `CI of ${short(action.sha)} failed${summary}; ${action.environment} takes no commit whose checks failed (ci: ${mode}); fix CI or ask a human`,
    };
  }
  if (mode === "passing" && state === "pending") {
    return {
      kind: "wait",
      action,
      lockKey: ciWaitKey(facts.repo, action.sha),
      reason: `CI of ${short(action.sha)} has not finished${summary}; ${action.environment} needs passing checks, so the step waits and CI is looked up again`,
    };
  }
  if (mode === "passing" && state === "none") {
    return {
      kind: "refuse",
      reason: `no CI reported for ${short(action.sha)}; ${action.environment} needs passing checks (ci: passing)`,
    };
  }
  return null;
}

export function judge(step: NextStep, facts: PolicyFacts): Verdict {
  const action = deployActionOf(step);
  if (!action) return { kind: "allow", action: null, lockKey: null };

  const { config } = facts;
  if (!(action.component in config.components)) {
    return {
      kind: "refuse",
      reason: `unknown component "${action.component}"; this repository has ${Object.keys(config.components).join(", ")}`,
    };
  }
  const envIndex = environmentIndex(config, action.environment);
  if (envIndex < 0) {
    return {
      kind: "refuse",
      reason: `unknown environment "${action.environment}"; this repository has ${config.environments.map((e) => e.name).join(", ")}`,
    };
  }
  const environment = config.environments[envIndex]!;
  const succeeded = (component: string, env: string, sha: string) =>
    facts.successes.some((s) => s.component === component && s.environment === env && s.sha === sha);

  if (action.kind === "deploy") {
    if (facts.mergeSha && action.sha !== facts.mergeSha) {
      return {
        kind: "refuse",
        reason: `sha ${short(action.sha)} is not the merged commit ${short(facts.mergeSha)}; only the merged commit may be deployed`,
      };
    }
    if (facts.changedComponents && !facts.changedComponents.includes(action.component)) {
      return {
        kind: "refuse",
        reason: `${action.component} has no changes in this merge (changed: ${facts.changedComponents.join(", ") || "none"})`,
      };
    }
    if (envIndex > 0) {
      const previous = config.environments[envIndex - 1]!.name;
      if (!succeeded(action.component, previous, action.sha)) {
        return {
          kind: "refuse",
          reason: `${action.component} ${short(action.sha)} has not succeeded in ${previous} yet; deploy it to ${previous} before ${action.environment}`,
        };
      }
    }
    if (succeeded(action.component, action.environment, action.sha) && facts.changedComponents) {
      return {
        kind: "refuse",
        reason: `${action.component} ${short(action.sha)} is already deployed to ${action.environment}`,
      };
    }
    if (facts.running?.sha === action.sha) {
      return {
        kind: "refuse",
        reason: `${action.component} ${short(action.sha)} already runs in ${action.environment} (${SOURCE_TEXT[facts.running.source]}); a redeploy changes nothing`,
      };
    }
    const { comparison, running } = facts;
    if (
      running &&
      comparison?.status === "behind" &&
      comparison.base === running.sha &&
      comparison.head === action.sha
    ) {
      const pr = running.pr !== null ? ` (PR #${running.pr})` : "";
      return {
        kind: "refuse",
        reason: `${short(action.sha)} is behind ${short(running.sha)}${pr}, which already runs ${action.component} in ${action.environment} and contains it; deploying it would undo newer changes`,
      };
    }
    const ci = judgeCi(action, environment.ci, facts);
    if (ci?.kind === "refuse") return ci;
    if (ci) return rejectedVerdict(action, facts) ?? ci;
  } else {
    if (!succeeded(action.component, action.environment, action.sha)) {
      return {
        kind: "refuse",
        reason: `rollback target ${short(action.sha)} never deployed successfully to ${action.environment} for ${action.component}`,
      };
    }
    if (facts.running?.sha === action.sha) {
      return {
        kind: "refuse",
        reason: `${short(action.sha)} is what runs in ${action.environment} now (${SOURCE_TEXT[facts.running.source]}); roll back to the good commit before it`,
      };
    }
  }
  const rejected = rejectedVerdict(action, facts);
  if (rejected) return rejected;

  const previous = envIndex > 0 ? config.environments[envIndex - 1]! : null;
  const { verdict: held, safety } = judgeHolds(action, environment, previous, facts);
  if (held) return held;

  const lockKey = lockKeyOf(facts.repo, action.component, action.environment);
  if (facts.lockHolder && facts.lockHolder !== facts.threadId) {
    return {
      kind: "wait",
      action,
      lockKey,
      reason: `another deploy of ${action.component} to ${action.environment} is running`,
    };
  }

  return judgeApproval(action, lockKey, safety, facts);
}

/** A step a human rejected in this thread is not asked for again unchanged. */
function rejectedVerdict(action: DeployAction, facts: PolicyFacts): Verdict | null {
  if (facts.approved) return null;
  const rejection = facts.rejected.find((r) => {
    const earlier = deployActionOf(r.step);
    return earlier !== null && sameAction(earlier, action);
  });
  if (!rejection) return null;
  return {
    kind: "refuse",
    reason: `${rejection.by} already rejected this ${action.kind} of ${action.component} ${short(action.sha)} to ${action.environment}: ${quotedLine(rejection.reason)}; change the plan or ask a human`,
  };
}
