import type { NextStep } from "./next-step.js";
import type { DeploymentRecord } from "../store/store.js";
import { deciderLabel, eventsOf, lastOf, type ThreadEvent } from "./events.js";
import { clip } from "./text.js";

/**
 * What runs where, read from a thread's events (pure): the versions fetched when the thread started,
 * this thread's own deploys, the CI states and commit comparisons it recorded, and the steps humans
 * rejected. The policy's facts, the model's context and the rules decider all read them from here.
 */

/** Where a fact about what runs in an environment came from. */
export type VersionSource = "this_thread" | "deploybot" | "github";

/** What runs now at one place (a component in an environment). */
export interface RunningVersion {
  sha: string;
  source: VersionSource;
  /** The pull request that commit came from, when deploybot knows it. */
  pr: number | null;
}

/** GitHub's comparison of two commits: where `head` stands relative to `base`. */
export interface CommitComparison {
  base: string;
  head: string;
  status: "ahead" | "behind" | "identical" | "diverged";
}

/** A step a human rejected in this thread, with the reason given. */
export interface RejectedStep {
  step: NextStep;
  reason: string;
  by: string;
}

/** deploybot's own history of a place, looked up from the store just before judging. */
export interface Observed {
  /** deploybot's successful deployments of the step's place, newest first. */
  history?: Pick<DeploymentRecord, "component" | "environment" | "sha" | "finishedAt" | "threadId">[];
  /** The pull request each history entry's thread deployed, by thread id. */
  prOfThread?: Record<string, number>;
}

/**
 * Steps that humans rejected in this thread, paired with their approval requests. A rejection
 * stands until the thread moves on: a deploy finishing or a human answering after it makes asking
 * again a new question (e.g. the backend after "frontend first" was done).
 */
export function rejectedSteps(events: readonly ThreadEvent[]): RejectedStep[] {
  const requested = new Map(eventsOf(events, "approval_requested").map((e) => [e.data.approval_id, e]));
  const movedOnAfter = (seq: number) =>
    events.some((e) => e.seq > seq && (e.type === "deploy_finished" || e.type === "human_answered"));
  return eventsOf(events, "approval_rejected").flatMap((rejection) => {
    const request = requested.get(rejection.data.approval_id);
    return request && !movedOnAfter(rejection.seq)
      ? [{ step: request.data.step, reason: rejection.data.reason, by: deciderLabel(rejection.data) }]
      : [];
  });
}

/** The newest CI state the thread recorded for a commit. */
export function recordedCi(events: readonly ThreadEvent[], sha: string) {
  return eventsOf(events, "ci_state")
    .filter((e) => e.data.sha === sha)
    .at(-1);
}

/** A comparison the thread recorded for exactly these two commits. */
export function recordedComparison(
  events: readonly ThreadEvent[],
  base: string,
  head: string,
): CommitComparison | null {
  const found = eventsOf(events, "commits_compared")
    .filter((e) => e.data.base === base && e.data.head === head)
    .at(-1);
  return found ? { base, head, status: found.data.status } : null;
}

/**
 * What runs at a place now, by the newest of: this thread's own deploys (and rollbacks), deploybot's
 * history, and the versions fetched when the thread started (deploybot's or GitHub's).
 */
export function runningAt(
  events: readonly ThreadEvent[],
  component: string,
  environment: string,
  observed: Observed = {},
): RunningVersion | null {
  const candidates: (RunningVersion & { at: string })[] = [];
  const fetched = lastOf(events, "deployed_versions")?.data.entries.find(
    (e) => e.component === component && e.environment === environment,
  );
  if (fetched?.sha) {
    candidates.push({
      sha: fetched.sha,
      source: fetched.source === "deploybot" ? "deploybot" : "github",
      pr: null,
      at: fetched.at ?? "",
    });
  }
  const results = eventsOf(events, "deploy_finished").filter(
    (e) => e.data.component === component && e.data.environment === environment,
  );
  const own = results.filter((e) => e.data.outcome === "success").at(-1);
  const failed = results.at(-1)?.data.outcome === "failure" ? results.at(-1) : undefined;
  if (own) {
    const merged = lastOf(events, "pr_merged");
    const pr = merged?.data.merge_sha === own.data.sha ? merged.data.number : null;
    candidates.push({ sha: own.data.sha, source: "this_thread", pr, at: own.at });
  }
  const [newest] = observed.history ?? [];
  if (newest?.finishedAt) {
    candidates.push({
      sha: newest.sha,
      source: "deploybot",
      pr: observed.prOfThread?.[newest.threadId] ?? null,
      at: newest.finishedAt,
    });
  }
  // Newest first; on a tie, this thread's own record is the most direct.
  const order: Record<string, number> = { this_thread: 0, deploybot: 1, github: 2 };
  const time = (at: string) => Date.parse(at) || 0;
  candidates.sort((a, b) => time(b.at) - time(a.at) || order[a.source]! - order[b.source]!);
  const found = candidates[0];
  // A deploy that failed there since may have left anything running: nothing is known to run.
  if (!found || (failed && time(failed.at) >= time(found.at))) return null;
  return { sha: found.sha, source: found.source, pr: found.pr };
}

/**
 * Where a rollback of a place goes: the good commit before the one running there, or, when a deploy
 * there failed since the last success, that last good commit (the failed one may be half-deployed).
 */
export function rollbackTargetAt(
  events: readonly ThreadEvent[],
  component: string,
  environment: string,
): string | null {
  const good: string[] = [];
  const fetched = lastOf(events, "deployed_versions")?.data.entries.find(
    (e) => e.component === component && e.environment === environment,
  );
  if (fetched?.previous_sha) good.push(fetched.previous_sha);
  if (fetched?.sha) good.push(fetched.sha);
  for (const e of eventsOf(events, "deploy_finished")) {
    if (
      e.data.outcome === "success" &&
      e.data.component === component &&
      e.data.environment === environment
    ) {
      good.push(e.data.sha);
    }
  }
  const running = runningAt(events, component, environment);
  if (!running) return good.at(-1) ?? null;
  return good.filter((sha) => sha !== running.sha).at(-1) ?? null;
}

/** Labels the context defines for commits, so an answer need not copy 40 hex digits. */
export const COMMIT_LABELS = ["merge", "tip", "previous"] as const;
export type CommitLabel = (typeof COMMIT_LABELS)[number];

/** The commits a thread names: the merge, the branch tip, and every commit known to run somewhere. */
export function knownCommits(events: readonly ThreadEvent[]): string[] {
  const shas = new Set<string>();
  const merged = lastOf(events, "pr_merged");
  if (merged) shas.add(merged.data.merge_sha);
  const head = lastOf(events, "branch_head");
  if (head) shas.add(head.data.sha);
  for (const entry of lastOf(events, "deployed_versions")?.data.entries ?? []) {
    if (entry.sha) shas.add(entry.sha);
    if (entry.previous_sha) shas.add(entry.previous_sha);
  }
  for (const e of eventsOf(events, "deploy_finished")) shas.add(e.data.sha);
  for (const e of eventsOf(events, "commits_compared")) shas.add(e.data.base);
  return [...shas];
}

/**
 * Resolves a commit as an answer names it: a full 40-hex SHA as it is; `merge` (the merged commit),
 * `tip` (the branch tip a request thread deploys), `previous` (the rollback target of the step's
 * place); or an unambiguous prefix of at least 7 hex digits of a commit the thread names.
 */
export function resolveCommit(
  value: string,
  events: readonly ThreadEvent[],
  place: { component: string; environment: string } | null,
): { ok: true; sha: string } | { ok: false; error: string } {
  const text = value.trim().toLowerCase();
  if (/^[0-9a-f]{40}$/.test(text)) return { ok: true, sha: text };
  const labelled =
    text === "merge"
      ? lastOf(events, "pr_merged")?.data.merge_sha
      : text === "tip"
        ? lastOf(events, "branch_head")?.data.sha
        : text === "previous" && place
          ? rollbackTargetAt(events, place.component, place.environment)
          : undefined;
  if (labelled) return { ok: true, sha: labelled };
  if ((COMMIT_LABELS as readonly string[]).includes(text)) {
    const where = place ? ` for ${place.component} in ${place.environment}` : "";
    return { ok: false, error: `commit label "${text}" means nothing in this thread${where}` };
  }
  if (/^[0-9a-f]{7,39}$/.test(text)) {
    const matches = knownCommits(events).filter((sha) => sha.startsWith(text));
    if (matches.length === 1) return { ok: true, sha: matches[0]! };
    if (matches.length > 1)
      return { ok: false, error: `commit "${text}" is ambiguous; give all 40 hex digits` };
  }
  return {
    ok: false,
    error: `commit "${clip(value, 45)}" is neither a 40-hex SHA, a commit of this thread, nor a label (merge, tip, previous)`,
  };
}
