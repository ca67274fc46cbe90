import type { LoopDeps } from "../agent/runner.js";
import { repoRefOf } from "../github/repository.js";
import { runIdOfCallback, type DeploymentProtectionRuleRequested } from "../github/webhooks.js";
import { deriveState } from "../thread/state.js";
import { stepOfRun } from "./adopt-deployment.js";

/**
 * deploybot as an environment's custom deployment protection rule (`deployments: actions`): GitHub
 * asks before any job deploys to the environment. A run deploybot dispatched for a step its policy
 * authorised, to that very environment, is approved at once; any other run (a manual dispatch, a
 * push) is rejected with the reason and the way through deploybot, so nothing reaches the
 * environment around its policy.
 */

export type GateVerdict = { state: "approved" | "rejected"; comment: string };

/** Why this run may or may not deploy to the environment. */
export async function judgeRun(
  deps: LoopDeps,
  repo: string,
  runId: number | null,
  environment: string,
): Promise<GateVerdict> {
  const howTo = `Deploys to ${environment} go through deploybot's policy: ask with \`/deploybot deploy <component> to ${environment}\` in a pull request comment, in Slack or through its REST API.`;
  const step = runId === null ? null : await stepOfRun(deps, repo, runId);
  if (!step) return { state: "rejected", comment: `deploybot did not dispatch this run. ${howTo}` };
  const thread = await deps.store.getThread(step.threadId);
  const inFlight = thread ? deriveState(thread.events).inFlight : null;
  const authorized = inFlight?.authorized;
  if (!authorized || authorized.seq !== step.stepSeq) {
    return { state: "rejected", comment: `The step deploybot dispatched this run for is over. ${howTo}` };
  }
  if (authorized.data.environment !== environment) {
    return {
      state: "rejected",
      comment: `deploybot authorised this run for ${authorized.data.environment}, not ${environment}.`,
    };
  }
  return {
    state: "approved",
    comment: `deploybot authorised this ${authorized.data.kind} of ${authorized.data.component} ${authorized.data.sha.slice(0, 7)} to ${environment} (thread ${step.threadId}).`,
  };
}

export async function reviewDeploymentGate(
  deps: LoopDeps,
  payload: DeploymentProtectionRuleRequested,
): Promise<string> {
  const repo = payload.repository.full_name;
  const runId = runIdOfCallback(payload.deployment_callback_url);
  const verdict = await judgeRun(deps, repo, runId, payload.environment);
  if (runId === null) return `skipped: no run in ${payload.deployment_callback_url}`;
  const octokit = await deps.octokitFor(payload.installation.id);
  try {
    await octokit.rest.actions.reviewCustomGatesForRun({
      ...repoRefOf(repo),
      run_id: runId,
      environment_name: payload.environment,
      state: verdict.state,
      comment: verdict.comment.slice(0, 1_000),
    });
  } catch (error) {
    // Reviewed already (a redelivery after the answer was lost): GitHub refuses a second review.
    const status =
      typeof error === "object" && error !== null && "status" in error
        ? (error as { status: unknown }).status
        : null;
    if (status !== 422) throw error;
  }
  deps.log.info({ repo, run: runId, environment: payload.environment }, `protection rule: ${verdict.state}`);
  return `run ${runId} ${verdict.state} for ${payload.environment}`;
}
