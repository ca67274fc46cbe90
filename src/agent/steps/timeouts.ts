import { setDeploymentStatus } from "../../github/deployments.js";
import { repoRefOf } from "../../thread/text.js";
import type { Plan } from "../loop.js";
import { endStep, settleDeployment } from "./finish.js";
import type { StepRun } from "./step-run.js";

/** A dispatched deploy without a final status in time: GitHub shows it as errored, the step fails. */
export async function deployTimeoutStep(
  run: StepRun,
  plan: Extract<Plan, { kind: "deploy_timeout" }>,
): Promise<void> {
  const { deps } = run;
  const { thread } = run.view;
  const deploymentId = plan.created.data.deployment_id;
  const deployment = await deps.store.getDeployment(deploymentId);
  const summary = `no final deployment status within ${Math.round(plan.timeoutMs / 60_000)} minutes (deploy_timeout)`;
  deps.log.warn({ thread: thread.id, deployment: deploymentId }, summary);
  const octokit = await deps.octokitFor(thread.installationId);
  await setDeploymentStatus(octokit, repoRefOf(thread.repo), deploymentId, "error", `deploybot: ${summary}`);
  if (deployment)
    await settleDeployment(run, deployment, { outcome: "failure", summary, source: "timeout", logUrl: null });
}

/** `deployments: actions`: the dispatched run made no deployment in time. */
export async function runTimeoutStep(
  run: StepRun,
  plan: Extract<Plan, { kind: "run_timeout" }>,
): Promise<void> {
  const minutes = Math.round(plan.timeoutMs / 60_000);
  await endStep(
    run,
    plan.authorized,
    `run ${plan.run.data.run_id} created no deployment within ${minutes} minutes (deploy_timeout): does its job name \`environment: ${plan.authorized.data.environment}\`?`,
    "timeout",
  );
}
