import type { RepoConfig } from "../../config/repo-config.js";
import { eventsOf, lastOf, type ThreadEvent } from "../../thread/events.js";
import type { VerificationFact } from "./bake.js";
import { breakGlassVerdict, type BreakGlass } from "./break-glass.js";
import type { ApprovalAnswer } from "../../thread/quorum.js";

/**
 * The deploy-safety facts a thread's own events hold, for `PolicyFacts`: the answers to an approval
 * request, and a commit's success and verification in an environment. Pure.
 */

/** The GitHub login of the author of the pull request the thread deploys, when there is one. */
export function prAuthorOf(events: readonly ThreadEvent[]): string | null {
  return lastOf(events, "pr_merged")?.data.author ?? lastOf(events, "pr_found")?.data.author ?? null;
}

/**
 * The answers to an approved request, for the policy's quorum (`PolicyFacts.approvals`). No request
 * time is given: each answer was judged against the expiry as of when it reached deploybot (a click
 * before the expiry counts though the worker recorded it after), so the policy does not judge it again.
 */
export function approvalsOf(
  events: readonly ThreadEvent[],
  approvalId: string,
): { answers: ApprovalAnswer[]; prAuthor: string | null; requestedAt: Date | null } {
  return { answers: approvalAnswersOf(events, approvalId), prAuthor: prAuthorOf(events), requestedAt: null };
}

/**
 * The break-glass the thread's request declared, for a step to `environment`: one that names the
 * environment applies there only; one that names none applies where its declarer is listed.
 */
export function breakGlassOf(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  environment: string,
): BreakGlass | null {
  const declared = lastOf(events, "chat_request")?.data.break_glass;
  if (!declared) return null;
  const { by, channel, reason } = declared;
  if (declared.environment !== null)
    return declared.environment === environment ? { by, channel, reason } : null;
  const settings = config.environments.find((e) => e.name === environment);
  return settings && breakGlassVerdict(config, settings, { by, channel, reason }).ok
    ? { by, channel, reason }
    : null;
}

/** The answers recorded for one approval request, in order. */
export function approvalAnswersOf(events: readonly ThreadEvent[], approvalId: string): ApprovalAnswer[] {
  const answers: ApprovalAnswer[] = [];
  for (const event of events) {
    if (event.type !== "approval_granted" && event.type !== "approval_rejected") continue;
    if (event.data.approval_id !== approvalId) continue;
    const { by, channel } = event.data;
    const at = new Date(event.at);
    answers.push(
      event.type === "approval_granted"
        ? { decision: "approve", by, channel, at }
        : { decision: "reject", by, channel, at, reason: event.data.reason },
    );
  }
  return answers;
}

/**
 * When this thread last deployed `sha` of `component` to `environment` successfully (null: it did
 * not, or not that commit), and the latest verification of it there (null: none dispatched).
 */
export function promotionOf(
  events: readonly ThreadEvent[],
  place: { component: string; environment: string; sha: string },
): { succeededAt: Date | null; verification: VerificationFact | null } {
  const same = (d: { component: string; environment: string; sha: string }) =>
    d.component === place.component && d.environment === place.environment && d.sha === place.sha;
  let succeededAt: Date | null = null;
  for (const event of eventsOf(events, "deploy_finished")) {
    if (same(event.data) && event.data.outcome === "success") succeededAt = new Date(event.at);
  }
  let verification: VerificationFact | null = null;
  for (const event of events) {
    if (event.type === "verify_dispatched" && same(event.data)) {
      verification = { conclusion: "pending", url: event.data.run_url, summary: null };
    }
    if (event.type === "verify_finished" && same(event.data)) {
      const { conclusion, url, summary } = event.data;
      // A cancelled or timed-out verification proved nothing: promotion treats it as failed.
      const failed = conclusion === "success" ? "success" : "failure";
      const said =
        conclusion === "cancelled" || conclusion === "timed_out" ? (summary ?? conclusion) : summary;
      verification = { conclusion: failed, url, summary: said };
    }
  }
  return { succeededAt, verification };
}
