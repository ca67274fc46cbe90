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

export function afterFailure(events: readonly ThreadEvent[], failed: EventOf<"deploy_finished">): RawStep {
  const { component, environment, sha, summary } = failed.data;
  const target = rollbackTargetAt(events, component, environment);
  if (target && target !== sha) {
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: target,
      reason: `the deploy of ${component} ${short(sha)} to ${environment} failed; ${short(target)} ran there before`,
    };
  }
  const what = summary.trim() ? truncate(oneLine(summary), 300) : "no details";
  return ask(
    `The deploy of ${component} to ${environment} failed (${what}). Retry, or stop?`,
    `no earlier good version of ${component} in ${environment} to roll back to`,
  );
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
