import type { RepoConfig } from "../config/repo-config.js";
import { lastOf, type ThreadEvent } from "../thread/events.js";
import { oneLine, short, truncate } from "../thread/text.js";

/**
 * How the model's context quotes what it did not write: names and outside text made inert, cut to
 * a bound and fenced in `<untrusted>`, and commits named by their labels.
 */

/** Bounds for outside text, in characters. */
export const BOUND = {
  prTitle: 160,
  prBody: 400,
  fileNames: 120,
  ciSummary: 200,
  configProblems: 400,
  failureSummary: 400,
  rejectionReason: 300,
  humanText: 400,
  question: 300,
  modelText: 200,
} as const;

/** Text from outside, neutralised: one line, no angle brackets. */
function inert(text: string): string {
  return oneLine(text).replace(/</g, "‹").replace(/>/g, "›");
}

export function attribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Quotes text from outside as data: one line, cut to `max` characters, inside its own
 * `<untrusted source="...">` tag that nothing in the text can close or imitate.
 */
export function quoteUntrusted(source: string, text: string, max: number): string {
  return `<untrusted source="${attribute(source)}">${truncate(inert(text), max)}</untrusted>`;
}

/** A name from the config or the events (component, environment, login): one short inert word. */
export function name(text: string, max = 60): string {
  return truncate(inert(text), max);
}

/** How the context names a commit: by its label when it has one, else by its short SHA. */
export function commitNamer(events: readonly ThreadEvent[]): (sha: string | null | undefined) => string {
  const merge = lastOf(events, "pr_merged")?.data.merge_sha;
  const tip = lastOf(events, "branch_head")?.data.sha;
  return (sha) => (!sha ? "none" : sha === merge ? "merge" : sha === tip ? "tip" : short(sha));
}

function isApprover(config: RepoConfig, user: string | null, environment?: string): boolean {
  if (!user) return false;
  return config.environments.some(
    (e) => (environment === undefined || e.name === environment) && e.approvers.includes(user),
  );
}

export function who(config: RepoConfig, user: string | null, environment?: string): string {
  if (!user) return "a human";
  return `${name(user, 40)} (${isApprover(config, user, environment) ? "approver" : "not an approver"})`;
}
