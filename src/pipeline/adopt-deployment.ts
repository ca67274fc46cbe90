import { z } from "zod";
import { appendUnlessMoved, withAppended } from "../agent/append.js";
import { advanceThread } from "../agent/runner.js";
import { endStepWithoutDeployment } from "../agent/steps/finish.js";
import { runRef } from "../agent/steps/dispatch-run.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import type { DeploymentCreatedHook, WorkflowRunCompleted } from "../github/webhooks.js";
import { newEvent, type Thread } from "../thread/events.js";
import { configOf, deriveState } from "../thread/state.js";

/**
 * `deployments: actions`: the deploy workflow's job names its `environment:`, so Actions creates
 * the GitHub Deployment (environment secrets, protection rules and GitHub's history kept). deploybot
 * dispatched the run; when GitHub reports the deployment that run created, deploybot adopts it as
 * the step's deployment, and from then on its statuses end the step as for one deploybot created.
 */

const StepOfRun = z.object({ threadId: z.string(), stepSeq: z.number().int() });

/** The thread and step a run deploybot dispatched belongs to, or null. */
export async function stepOfRun(
  deps: LoopDeps,
  repo: string,
  runId: number,
): Promise<z.infer<typeof StepOfRun> | null> {
  const value = await deps.store.getRef(runRef(repo, runId));
  if (value === null) return null;
  const parsed = StepOfRun.safeParse(JSON.parse(value));
  return parsed.success ? parsed.data : null;
}

/** The step still waits for its run's deployment. */
function waitingStep(thread: Thread, stepSeq: number) {
  const inFlight = deriveState(thread.events).inFlight;
  if (!inFlight || inFlight.authorized.seq !== stepSeq || inFlight.created) return null;
  return inFlight;
}

export async function adoptDeployment(deps: LoopDeps, payload: DeploymentCreatedHook): Promise<string> {
  const run = payload.workflow_run;
  if (!run) return "skipped: a deployment no workflow run created";
  const repo = payload.repository.full_name;
  const step = await stepOfRun(deps, repo, run.id);
  if (!step) return `skipped: run ${run.id} was not dispatched by deploybot`;
  await deps.own?.(step.threadId);
  const deployment = payload.deployment;
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = await deps.store.getThread(step.threadId);
    const inFlight = thread ? waitingStep(thread, step.stepSeq) : null;
    if (!thread || !inFlight) return `skipped: step ${step.stepSeq} no longer waits for a deployment`;
    const a = inFlight.authorized.data;
    if (deployment.environment !== a.environment) {
      // The job named another environment than the one the policy authorised: not this step's deploy.
      const ended = await endStepWithoutDeployment(
        deps,
        thread,
        inFlight.authorized,
        `run ${run.id} deployed to ${deployment.environment}, not ${a.environment} as authorised: its job must name \`environment: \${{ inputs.environment }}\``,
        "workflow_run",
      );
      await advanceThread(deps, thread.id, withAppended(thread, ended));
      return `refused: run ${run.id} deployed to ${deployment.environment}`;
    }
    const workflow =
      inFlight.runDispatched?.data.workflow ?? configOf(thread.events)!.components[a.component]!.workflow;
    await deps.store.recordDeployment(
      {
        deploymentId: deployment.id,
        repo,
        component: a.component,
        environment: a.environment,
        sha: a.sha,
        threadId: thread.id,
        stepSeq: step.stepSeq,
        createdAt: deps.clock().toISOString(),
      },
      deps.clock(),
    );
    await deps.store.setDeploymentRun(deployment.id, run.id);
    const appended = await appendUnlessMoved(deps, thread, [
      newEvent("deployment_created", {
        step_seq: step.stepSeq,
        deployment_id: deployment.id,
        component: a.component,
        environment: a.environment,
        sha: a.sha,
      }),
      newEvent("deploy_dispatched", {
        deployment_id: deployment.id,
        workflow,
        run_id: run.id,
        run_url: run.html_url,
      }),
    ]);
    if (!appended) continue;
    deps.log.info(
      { thread: thread.id, deployment: deployment.id, run: run.id },
      `adopted deployment ${deployment.id} that run ${run.id} created for ${a.component} in ${a.environment}`,
    );
    await advanceThread(deps, thread.id, withAppended(thread, appended));
    return `adopted deployment ${deployment.id}`;
  }
  throw new Error(`thread ${step.threadId} kept changing; retrying`);
}

/** A run deploybot dispatched that ended without creating a deployment ends its step. */
export async function runEndedWithoutDeployment(
  deps: LoopDeps,
  payload: WorkflowRunCompleted,
): Promise<string | null> {
  const run = payload.workflow_run;
  const step = await stepOfRun(deps, payload.repository.full_name, run.id);
  if (!step) return null;
  await deps.own?.(step.threadId);
  const thread = await deps.store.getThread(step.threadId);
  const inFlight = thread ? waitingStep(thread, step.stepSeq) : null;
  if (!thread || !inFlight) return `skipped: run ${run.id}'s step is already over`;
  const ended = await endStepWithoutDeployment(
    deps,
    thread,
    inFlight.authorized,
    `run ${run.id} concluded ${run.conclusion ?? "without a conclusion"} without creating a deployment: does its job name \`environment: ${inFlight.authorized.data.environment}\`?`,
    "workflow_run",
  );
  await advanceThread(deps, thread.id, withAppended(thread, ended));
  return `run ${run.id} ended without a deployment`;
}
