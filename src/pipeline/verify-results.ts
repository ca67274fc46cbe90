import { z } from "zod";
import type { LoopDeps } from "../agent/loop-deps.js";
import { verifyRunRef } from "../agent/steps/verify.js";
import { finishVerification, verifyConclusionOf } from "../agent/steps/verify-result.js";
import type { WorkflowRunCompleted } from "../github/webhooks.js";

/**
 * How a verification's result reaches its thread: the `workflow_run.completed` webhook of a run
 * deploybot dispatched to verify a deploy (the sweep reads the run itself when no webhook came
 * before the environment's `deploy_timeout`).
 */

const VerifyRun = z.object({
  threadId: z.string(),
  component: z.string(),
  environment: z.string(),
  sha: z.string(),
});

/** Records the result of a verification run; null when the run is not one. */
export async function verifyRunCompleted(
  deps: LoopDeps,
  payload: WorkflowRunCompleted,
): Promise<string | null> {
  const run = payload.workflow_run;
  const value = await deps.store.getRef(verifyRunRef(payload.repository.full_name, run.id));
  if (value === null) return null;
  const parsed = VerifyRun.safeParse(JSON.parse(value));
  if (!parsed.success) return null;
  const { threadId, ...place } = parsed.data;
  const conclusion = verifyConclusionOf(run.conclusion);
  const recorded = await finishVerification(deps, threadId, place, {
    conclusion,
    runId: run.id,
    url: run.html_url,
    stated: `verification run ${run.name ?? run.id} concluded ${run.conclusion ?? "without a conclusion"}`,
  });
  return recorded
    ? `verification of ${place.component} in ${place.environment} ${conclusion}`
    : `skipped: verification run ${run.id} was already recorded`;
}
