import { GitHubStepError } from "../github/deployments.js";
import { statusOf } from "../github/errors.js";
import { SlackCallError } from "../slack/client.js";
import { AppendConflictError } from "../store/store.js";
import { newEvent, type Thread } from "../thread/events.js";
import { append } from "./append.js";
import type { LoopDeps } from "./loop-deps.js";
import { clip } from "../thread/text.js";

/**
 * How a failed step is classified, in one place: a transient failure (the outside service may
 * answer later) is retried with the inbox entry and shown on the thread as an outage; a permanent
 * one ends the step with its reason.
 */

/** Retryable: the outside service may answer later (5xx, network); the inbox entry is retried. */
export function isTransient(error: unknown): boolean {
  return (
    !(error instanceof GitHubStepError) ||
    error.status === undefined ||
    error.status >= 500 ||
    error.status === 429
  );
}

/** Rethrows what a step must not record as its end: a transient failure, or another writer first. */
export function rethrowUnlessPermanent(error: unknown): void {
  if (isTransient(error) || error instanceof AppendConflictError) throw error;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** GitHub did not answer, or answered 5xx or 429: worth waiting for (a 4xx or a bug is not). */
export function githubOutage(error: unknown): boolean {
  if (error instanceof GitHubStepError) return isTransient(error);
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return true;
  const status = statusOf(error);
  return status !== undefined && (status >= 500 || status === 429);
}

/** Shows on the thread which service it waits for, once per outage; the step itself is retried. */
export async function recordOutage(deps: LoopDeps, thread: Thread, error: unknown): Promise<void> {
  const service =
    error instanceof SlackCallError
      ? error.transient
        ? "slack"
        : null
      : githubOutage(error)
        ? "github"
        : null;
  if (!service) return;
  if (thread.events.at(-1)?.type === "service_unavailable") return;
  const message = clip(messageOf(error).split("\n")[0]!, 300);
  await append(deps, thread, [newEvent("service_unavailable", { service, error: message })]).catch(
    (appendError: unknown) =>
      deps.log.warn({ thread: thread.id }, `could not record the outage: ${String(appendError)}`),
  );
}
