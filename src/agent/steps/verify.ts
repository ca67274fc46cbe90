import { dispatchWorkflow } from "../../github/deployments.js";
import { statusOf } from "../../github/errors.js";
import { findVerifyRun, readRun, type RunResult } from "../../github/verify-runs.js";
import { newEvent } from "../../thread/events.js";
import type { Plan } from "../loop.js";
import { messageOf, rethrowUnlessPermanent } from "../step-errors.js";
import type { Verification } from "../verify-plan.js";
import { record, recordIntent, type StepRun } from "./step-run.js";
import { verifyConclusionOf, verifyFinishedOf } from "./verify-result.js";
import { clip, short, repoRefOf } from "../../thread/text.js";

/** How long GitHub may take to list the run of a dispatch before a dispatch counts as lost. */
const RUN_LISTING_GRACE_MS = 10_000;

/** The store ref that leads from a verification run to its thread and place. */
export function verifyRunRef(repo: string, runId: number): string {
  return `verify-run:${repo.toLowerCase()}:${runId}`;
}

function placeOf(verification: Verification) {
  const { component, environment, sha } = verification.finished.data;
  return { component, environment, sha };
}

/**
 * Dispatches the environment's `verify` workflow for a successful deploy, once: the intent is
 * recorded first, and after a doubt the run is looked for before dispatching again. A dispatch
 * GitHub refuses for good is a failed verification.
 */
export async function dispatchVerifyStep(
  run: StepRun,
  plan: Extract<Plan, { kind: "dispatch_verify" }>,
): Promise<void> {
  const { verification } = plan;
  const intent = await recordIntent(run, `verify:${verification.finished.seq}`);
  if (!intent) return;
  const { deps } = run;
  const { thread } = run.view;
  const config = run.view.config!;
  const ref = repoRefOf(thread.repo);
  const place = placeOf(verification);
  const { workflow } = verification;
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    const since = new Date(intent.recordedAt);
    const earlier = intent.recovering ? await findVerifyRun(octokit, ref, workflow, place, since) : null;
    if (intent.recovering && !earlier && deps.clock().getTime() - since.getTime() < RUN_LISTING_GRACE_MS) {
      // GitHub lists a new run after a moment: dispatching again now could start a second one.
      throw new Error(`the run of an earlier dispatch of ${workflow} may not be listed yet`);
    }
    const dispatched =
      earlier ?? (await dispatchWorkflow(octokit, ref, { workflow, branch: config.branch, inputs: place }));
    if (dispatched.runId !== null) {
      const value = JSON.stringify({ threadId: thread.id, ...place });
      await deps.store.setRef(verifyRunRef(thread.repo, dispatched.runId), value, deps.clock());
    }
    deps.log.info(
      { thread: thread.id, run: dispatched.runId },
      `dispatched ${workflow} to verify ${place.component} ${short(place.sha)} in ${place.environment}`,
    );
    await record(run, [
      newEvent("verify_dispatched", {
        ...place,
        workflow,
        run_id: dispatched.runId,
        run_url: dispatched.runUrl,
      }),
    ]);
  } catch (error) {
    rethrowUnlessPermanent(error);
    await record(run, [
      newEvent("verify_dispatched", { ...place, workflow, run_id: null, run_url: null }),
      newEvent("verify_finished", {
        ...place,
        conclusion: "failure",
        url: null,
        summary: clip(`the dispatch of ${workflow} failed: ${messageOf(error)}`, 1_000),
      }),
    ]);
  }
}

/**
 * A verification without a result within the environment's `deploy_timeout`: its run is read
 * first (its webhook may have been missed); a run still going, or none known, has timed out.
 */
export async function verifyTimeoutStep(
  run: StepRun,
  plan: Extract<Plan, { kind: "verify_timeout" }>,
): Promise<void> {
  const { deps } = run;
  const { thread } = run.view;
  const { verification, timeoutMs } = plan;
  const place = placeOf(verification);
  const runId = verification.dispatched?.data.run_id ?? null;
  const current = runId === null ? null : await runIfKnown(run, runId);
  const minutes = Math.round(timeoutMs / 60_000);
  const event = current?.conclusion
    ? await verifyFinishedOf(deps, thread, place, {
        conclusion: verifyConclusionOf(current.conclusion),
        runId,
        url: current.url,
        stated: `verification run ${runId} concluded ${current.conclusion}`,
      })
    : {
        type: "verify_finished" as const,
        data: {
          ...place,
          conclusion: "timed_out" as const,
          url: current?.url ?? verification.dispatched?.data.run_url ?? null,
          summary: `${verification.workflow} reported no result within ${minutes} minutes (deploy_timeout)`,
        },
      };
  deps.log.warn(
    { thread: thread.id },
    `verification of ${place.component} in ${place.environment}: ${event.data.conclusion}`,
  );
  await record(run, [event]);
}

/** The run as it stands, or null when GitHub no longer knows it (a 4xx). */
async function runIfKnown(run: StepRun, runId: number): Promise<RunResult | null> {
  const { thread } = run.view;
  try {
    return await readRun(await run.deps.octokitFor(thread.installationId), repoRefOf(thread.repo), runId);
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) return null;
    throw error;
  }
}
