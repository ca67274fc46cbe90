import { environmentIndex, type RepoConfig } from "../config/repo-config.js";
import { deployActionOf, type DeployAction, type NextStep } from "./next-step.js";

/**
 * The policy: code that judges every proposed step before it runs. The model can propose; only
 * this lets a step run. Pure: every fact it needs is passed in.
 */

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
}

export type Verdict =
  | { kind: "allow"; action: DeployAction | null; lockKey: string | null }
  | { kind: "needs_approval"; action: DeployAction; reason: string }
  | { kind: "wait"; action: DeployAction; lockKey: string; reason: string }
  | { kind: "refuse"; reason: string };

export function lockKeyOf(repo: string, component: string, environment: string): string {
  return `${repo}:${component}:${environment}`;
}

const short = (sha: string) => sha.slice(0, 7);

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
  } else if (!succeeded(action.component, action.environment, action.sha)) {
    return {
      kind: "refuse",
      reason: `rollback target ${short(action.sha)} never deployed successfully to ${action.environment} for ${action.component}`,
    };
  }

  const lockKey = lockKeyOf(facts.repo, action.component, action.environment);
  if (facts.lockHolder && facts.lockHolder !== facts.threadId) {
    return {
      kind: "wait",
      action,
      lockKey,
      reason: `another deploy of ${action.component} to ${action.environment} is running`,
    };
  }

  const approval =
    action.kind === "rollback"
      ? (environment.rollback_approval ?? environment.approval)
      : environment.approval;
  if (approval === "required" && !facts.approved) {
    return {
      kind: "needs_approval",
      action,
      reason: `${action.environment} requires approval for a ${action.kind}`,
    };
  }
  return { kind: "allow", action, lockKey };
}
