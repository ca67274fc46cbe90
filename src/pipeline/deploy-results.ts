import { finishDeploy } from "../agent/steps/finish.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { repoRefOf } from "../thread/text.js";
import {
  deploymentIdInRunTitle,
  finalOutcome,
  type DeploymentStatusCreated,
  type WorkflowRunCompleted,
} from "../github/webhooks.js";
import type { DeploymentRecord } from "../store/store.js";
import { runEndedWithoutDeployment } from "./adopt-deployment.js";
import { compactFailure, runIdFromUrl } from "./failure.js";
import { verifyRunCompleted } from "./verify-results.js";

/** How a deploy's result reaches its thread: a final deployment status, or the end of its workflow run. */

export interface ResultDeps extends LoopDeps {
  /** The GitHub App's id: deployment statuses written by the app itself are ignored. */
  appId: number | null;
}

/** `deployment_status.created`: a final status of a deployment deploybot created ends its step. */
export async function deploymentStatusCreated(
  deps: ResultDeps,
  payload: DeploymentStatusCreated,
): Promise<string> {
  const status = payload.deployment_status;
  if (deps.appId !== null && status.performed_via_github_app?.id === deps.appId) {
    return "skipped: a status deploybot wrote itself";
  }
  const outcome = finalOutcome(status.state);
  if (!outcome) return `skipped: progress state ${status.state}`;
  const record = await deps.store.getDeployment(payload.deployment.id);
  if (!record) return `skipped: deployment ${payload.deployment.id} was not created by deploybot`;
  if (record.state !== "pending") return `skipped: deployment ${record.deploymentId} already ${record.state}`;
  const stated = `deployment status ${status.state}${status.description ? `: ${status.description}` : ""}`;
  const runId = record.runId ?? runIdFromUrl(status.log_url ?? status.target_url);
  await finishDeploy(deps, record, {
    outcome,
    summary: outcome === "success" ? stated : await failureSummary(deps, record, runId, stated),
    source: "deployment_status",
    logUrl: status.log_url ?? status.target_url ?? null,
  });
  return `deployment ${record.deploymentId} ${outcome}`;
}

/**
 * `workflow_run.completed`: a verification run records its result; a deploy run that ended without
 * a final deployment status ends the deploy.
 */
export async function workflowRunCompleted(deps: ResultDeps, payload: WorkflowRunCompleted): Promise<string> {
  const verified = await verifyRunCompleted(deps, payload);
  if (verified) return verified;
  const run = payload.workflow_run;
  const byTitle = deploymentIdInRunTitle(run.display_title);
  const record =
    (await deps.store.getDeploymentByRun(run.id)) ??
    (byTitle !== null ? await deps.store.getDeployment(byTitle) : null);
  if (!record) {
    return (
      (await runEndedWithoutDeployment(deps, payload)) ?? `skipped: run ${run.id} is not a deploybot deploy`
    );
  }
  if (record.state !== "pending") return `skipped: deployment ${record.deploymentId} already ${record.state}`;
  const name = run.name ?? run.id;
  await finishDeploy(deps, record, {
    outcome: run.conclusion === "success" ? "success" : "failure",
    summary:
      run.conclusion === "success"
        ? `workflow run ${name} succeeded without a final deployment status`
        : await failureSummary(
            deps,
            record,
            run.id,
            `workflow run ${name} concluded ${run.conclusion ?? "without a conclusion"} without a final deployment status`,
          ),
    source: "workflow_run",
    logUrl: run.html_url,
  });
  return `deployment ${record.deploymentId} ended by its workflow run`;
}

/** A failed deploy, compacted from its run's jobs and log; the plain statement when that fails. */
async function failureSummary(
  deps: LoopDeps,
  record: DeploymentRecord,
  runId: number | null,
  stated: string,
): Promise<string> {
  if (runId === null) return stated;
  const thread = await deps.store.getThreadSummary(record.threadId);
  if (!thread) return stated;
  try {
    const compact = await compactFailure(
      await deps.octokitFor(thread.installationId),
      repoRefOf(record.repo),
      runId,
    );
    return compact ? `${stated}\n${compact}` : stated;
  } catch (error) {
    deps.log.warn(
      { deployment: record.deploymentId },
      `could not read the failed run ${runId}: ${String(error)}`,
    );
    return stated;
  }
}
