import { eventsOf, lastOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { oneLine, short, truncate } from "../thread/text.js";
import { rollbackTargetAt } from "../thread/versions.js";
import { ask, type RawStep } from "./rules-vocabulary.js";

/** What the rules decider reads of what happened: failed deploys, ended approvals, what came last. */

/** The authorization that started the run a result belongs to: the last one for that place before it. */
export function authorizationOf(
  events: readonly ThreadEvent[],
  finished: EventOf<"deploy_finished">,
): EventOf<"deploy_authorized"> | undefined {
  return eventsOf(events, "deploy_authorized")
    .filter(
      (a) =>
        a.seq < finished.seq &&
        a.data.component === finished.data.component &&
        a.data.environment === finished.data.environment,
    )
    .at(-1);
}

/** What failed: a deploy, or the verification of one that succeeded. */
type Failed = EventOf<"deploy_finished"> | EventOf<"verify_finished">;

export function afterFailure(events: readonly ThreadEvent[], failed: Failed): RawStep {
  const { component, environment, sha } = failed.data;
  const summary = failed.data.summary ?? "";
  const what = failed.type === "verify_finished" ? "verification" : "deploy";
  const target = rollbackTargetAt(events, component, environment);
  if (target && target !== sha) {
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: target,
      reason: `the ${what} of ${component} ${short(sha)} ${what === "deploy" ? "to" : "in"} ${environment} failed; ${short(target)} ran there before`,
    };
  }
  const details = summary.trim() ? truncate(oneLine(summary), 300) : "no details";
  return ask(
    `The ${what} of ${component} ${what === "deploy" ? "to" : "in"} ${environment} failed (${details}). Retry, or stop?`,
    `no earlier good version of ${component} in ${environment} to roll back to`,
  );
}

/**
 * The last verification, when it failed (or never reported) after the last deploy result, so the
 * commit it checked still runs there.
 */
export function failedVerification(events: readonly ThreadEvent[]): EventOf<"verify_finished"> | null {
  const verified = lastOf(events, "verify_finished");
  const finished = lastOf(events, "deploy_finished");
  if (!verified || verified.data.conclusion === "success") return null;
  return !finished || verified.seq > finished.seq ? verified : null;
}

/** The last approval request, when a human rejected it or it expired, and how. */
export function endedApproval(
  events: readonly ThreadEvent[],
):
  | { how: "rejected"; event: EventOf<"approval_rejected">; requested: EventOf<"approval_requested"> }
  | { how: "expired"; event: EventOf<"approval_expired">; requested: EventOf<"approval_requested"> }
  | null {
  const requested = lastOf(events, "approval_requested");
  if (!requested) return null;
  const rejected = lastOf(events, "approval_rejected");
  if (rejected && rejected.seq > requested.seq && rejected.data.approval_id === requested.data.approval_id) {
    return { how: "rejected", event: rejected, requested };
  }
  const expired = lastOf(events, "approval_expired");
  if (expired && expired.seq > requested.seq && expired.data.approval_id === requested.data.approval_id) {
    return { how: "expired", event: expired, requested };
  }
  return null;
}

/** Whether `seq` is the thread's latest human or deploy fact, so nothing has moved on since. */
export function isLatest(events: readonly ThreadEvent[], seq: number): boolean {
  return !events.some(
    (e) =>
      e.seq > seq &&
      [
        "deploy_finished",
        "human_answered",
        "approval_rejected",
        "approval_granted",
        "approval_expired",
      ].includes(e.type),
  );
}
