import type { VerifiedPlace } from "../../github/verify-runs.js";
import { compactFailure } from "../../pipeline/failure.js";
import type { EventDataOf, Thread } from "../../thread/events.js";
import { configOf } from "../../thread/state.js";
import { appendUnlessMoved, withAppended } from "../append.js";
import type { LoopDeps } from "../loop-deps.js";
import { advanceThread } from "../runner.js";
import { openVerifications } from "../verify-plan.js";
import { clip, short, repoRefOf } from "../../thread/text.js";

/** How a verification's result reaches its thread: once, while the thread still waits for it. */

type Conclusion = EventDataOf<"verify_finished">["conclusion"];

/** A run's conclusion as a verification's: anything but success, cancelled or timed_out failed. */
export function verifyConclusionOf(conclusion: string | null): Conclusion {
  if (conclusion === "success" || conclusion === "cancelled" || conclusion === "timed_out") return conclusion;
  return "failure";
}

/** The `verify_finished` event of a run's result; a failed run's jobs and log, compacted, say why. */
export async function verifyFinishedOf(
  deps: LoopDeps,
  thread: Thread,
  place: VerifiedPlace,
  result: { conclusion: Conclusion; runId: number | null; url: string | null; stated: string },
): Promise<{ type: "verify_finished"; data: EventDataOf<"verify_finished"> }> {
  let summary: string | null = result.conclusion === "success" ? null : result.stated;
  if (result.conclusion === "failure" && result.runId !== null) {
    try {
      const octokit = await deps.octokitFor(thread.installationId);
      const compact = await compactFailure(octokit, repoRefOf(thread.repo), result.runId);
      if (compact) summary = `${result.stated}\n${compact}`;
    } catch (error) {
      deps.log.warn({ thread: thread.id }, `could not read the failed run ${result.runId}: ${String(error)}`);
    }
  }
  const data = {
    ...place,
    conclusion: result.conclusion,
    url: result.url,
    summary: summary === null ? null : clip(summary, 1_000),
  };
  return { type: "verify_finished", data };
}

/** Whether the thread still waits for the verification of this place. */
export function awaitsVerification(thread: Thread, place: VerifiedPlace): boolean {
  const config = configOf(thread.events);
  if (!config) return false;
  return openVerifications(thread.events, config).some(
    (v) =>
      v.finished.data.component === place.component &&
      v.finished.data.environment === place.environment &&
      v.finished.data.sha === place.sha,
  );
}

/**
 * Records a verification's result on its thread (once: a result for a verification no longer
 * awaited is dropped) and moves the thread on. Returns whether it recorded it.
 */
export async function finishVerification(
  deps: LoopDeps,
  threadId: string,
  place: VerifiedPlace,
  result: { conclusion: Conclusion; runId: number | null; url: string | null; stated: string },
): Promise<boolean> {
  await deps.own?.(threadId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = await deps.store.getThread(threadId);
    if (!thread || !awaitsVerification(thread, place)) return false;
    const event = await verifyFinishedOf(deps, thread, place, result);
    const added = await appendUnlessMoved(deps, thread, [event]);
    if (!added) continue;
    deps.log.info(
      { thread: threadId },
      `verification of ${place.component} ${short(place.sha)} in ${place.environment}: ${result.conclusion}`,
    );
    await advanceThread(deps, threadId, withAppended(thread, added));
    return true;
  }
  return false;
}
