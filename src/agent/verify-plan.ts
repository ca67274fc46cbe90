import type { RepoConfig } from "../config/repo-config.js";
import type { EventOf, ThreadEvent } from "../thread/events.js";

/**
 * Verification, as the planner sees it (pure): after a successful deploy to an environment with
 * `verify`, its workflow is dispatched once, and followed until it reports or the environment's
 * `deploy_timeout` passes.
 */

export interface Verification {
  /** The successful deploy the verification is for. */
  finished: EventOf<"deploy_finished">;
  workflow: string;
  /** The dispatch, once recorded. */
  dispatched: EventOf<"verify_dispatched"> | null;
}

export type VerificationDue =
  | { kind: "dispatch_verify"; verification: Verification }
  | { kind: "verify_timeout"; verification: Verification; timeoutMs: number }
  /** Dispatched, no result yet: nothing to do but wait for it. */
  | { kind: "verifying"; verification: Verification };

type Place = { component: string; environment: string; sha: string };

function placeKey(place: Place): string {
  return `${place.component}\u0000${place.environment}\u0000${place.sha}`;
}

/** The verifications this thread's deploys call for that have no result yet, oldest first. */
export function openVerifications(events: readonly ThreadEvent[], config: RepoConfig): Verification[] {
  const open = new Map<string, Verification>();
  let kind: "deploy" | "rollback" = "deploy";
  for (const event of events) {
    if (event.type === "deploy_authorized") kind = event.data.kind;
    if (event.type === "deploy_finished" && event.data.outcome === "success" && kind === "deploy") {
      const workflow = config.environments.find((e) => e.name === event.data.environment)?.verify;
      if (workflow) open.set(placeKey(event.data), { finished: event, workflow, dispatched: null });
    }
    if (event.type === "verify_dispatched") {
      const verification = open.get(placeKey(event.data));
      if (verification) verification.dispatched = event;
    }
    if (event.type === "verify_finished") open.delete(placeKey(event.data));
  }
  return [...open.values()];
}

/** What the oldest open verification needs now; null when none is open. */
export function verificationDue(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  now: Date,
): VerificationDue | null {
  const verification = openVerifications(events, config)[0];
  if (!verification) return null;
  if (!verification.dispatched) return { kind: "dispatch_verify", verification };
  const timeoutMs =
    config.environments.find((e) => e.name === verification.finished.data.environment)?.deploy_timeout ??
    null;
  const dispatchedAt = Date.parse(verification.dispatched.at);
  if (timeoutMs !== null && now.getTime() >= dispatchedAt + timeoutMs) {
    return { kind: "verify_timeout", verification, timeoutMs };
  }
  return { kind: "verifying", verification };
}
