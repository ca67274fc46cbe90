import { environmentIndex } from "../../config/repo-config.js";
import { createDeployment, findDeploymentForStep } from "../../github/deployments.js";
import { newEvent, type EventOf } from "../../thread/events.js";
import { messageOf, rethrowUnlessPermanent } from "../step-errors.js";
import { endStep } from "./finish.js";
import { record, recordIntent, stepWrite, type StepRun } from "./step-run.js";

/**
 * Creates the GitHub deployment of an authorised step. The step's idempotency key is (thread, seq of
 * deploy_authorized): after a doubt it looks first, since GitHub may have created the deployment
 * even though its answer never arrived.
 */
export async function createDeploymentStep(
  run: StepRun,
  authorized: EventOf<"deploy_authorized">,
): Promise<void> {
  const intent = await recordIntent(run, `deployment:${authorized.seq}`);
  if (!intent) return;
  const { deps, thread, config, ref, a } = stepWrite(run, authorized);
  const index = environmentIndex(config, a.environment);
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    const known = intent.recovering
      ? ((await deps.store.findDeploymentForStep(thread.id, authorized.seq))?.deploymentId ??
        (await findDeploymentForStep(octokit, ref, {
          sha: a.sha,
          environment: a.environment,
          threadId: thread.id,
          stepSeq: authorized.seq,
        })))
      : null;
    if (known !== null)
      deps.log.info({ thread: thread.id, deployment: known }, "found the deployment of an earlier attempt");
    const deploymentId =
      known ??
      (await createDeployment(octokit, ref, {
        sha: a.sha,
        environment: a.environment,
        component: a.component,
        threadId: thread.id,
        stepSeq: authorized.seq,
        description: `deploybot: ${a.kind} ${a.component} to ${a.environment}`,
        requiredContexts: config.environments[index]!.required_contexts ?? [],
        productionEnvironment: index === config.environments.length - 1,
      }));
    await deps.store.recordDeployment(
      {
        deploymentId,
        repo: thread.repo,
        component: a.component,
        environment: a.environment,
        sha: a.sha,
        threadId: thread.id,
        stepSeq: authorized.seq,
        createdAt: deps.clock().toISOString(),
      },
      deps.clock(),
    );
    await record(run, [
      newEvent("deployment_created", {
        step_seq: authorized.seq,
        deployment_id: deploymentId,
        component: a.component,
        environment: a.environment,
        sha: a.sha,
      }),
    ]);
  } catch (error) {
    rethrowUnlessPermanent(error);
    await endStep(run, authorized, messageOf(error), "create");
  }
}
