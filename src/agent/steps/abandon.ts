import { findDeploymentForStep } from "../../github/deployments.js";
import { repoRefOf } from "../../thread/text.js";
import type { EventOf } from "../../thread/events.js";
import { deployFinished, endDeployment, releaseStepLock, settleDeployment } from "./finish.js";
import { record, type StepRun } from "./step-run.js";

/**
 * A thread that ended (cancelled) between deciding a deploy and dispatching it lets the deployment
 * go: found (also one whose creation was in doubt), marked inactive on GitHub, and the lock freed.
 */
export async function abandonDeployment(
  run: StepRun,
  authorized: EventOf<"deploy_authorized">,
  created: EventOf<"deployment_created"> | null,
  reason: string,
): Promise<void> {
  const { deps } = run;
  const { thread } = run.view;
  const a = authorized.data;
  const deploymentId =
    created?.data.deployment_id ??
    (await deps.store.findDeploymentForStep(thread.id, authorized.seq))?.deploymentId ??
    (await findDeploymentForStep(await deps.octokitFor(thread.installationId), repoRefOf(thread.repo), {
      sha: a.sha,
      environment: a.environment,
      threadId: thread.id,
      stepSeq: authorized.seq,
    }));
  deps.log.info({ thread: thread.id, deployment: deploymentId }, `abandoning the deploy: ${reason}`);
  if (deploymentId !== null) await endDeployment(deps, thread, deploymentId, "inactive", reason);
  const deployment = deploymentId !== null ? await deps.store.getDeployment(deploymentId) : null;
  if (deployment && created) {
    await settleDeployment(run, deployment, {
      outcome: "failure",
      summary: reason,
      source: "abandoned",
      logUrl: null,
    });
    return;
  }
  if (deployment) await deps.store.finishDeployment(deployment.deploymentId, "failure", deps.clock());
  await record(run, [
    deployFinished(a, {
      deployment_id: deploymentId,
      outcome: "failure",
      summary: reason,
      source: "abandoned",
      log_url: null,
    }),
  ]);
  await releaseStepLock(deps, thread.repo, a.component, a.environment, {
    threadId: thread.id,
    stepSeq: authorized.seq,
  });
}
