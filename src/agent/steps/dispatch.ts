import { dispatchWorkflow, findDispatchedRun } from "../../github/deployments.js";
import { newEvent, type EventOf } from "../../thread/events.js";
import { messageOf, rethrowUnlessPermanent } from "../step-errors.js";
import { endDeployment, settleDeployment } from "./finish.js";
import { record, recordIntent, stepWrite, type StepRun } from "./step-run.js";
import { short } from "../../thread/text.js";

/** How long GitHub may take to list the run of a dispatch before a dispatch counts as lost. */
const RUN_LISTING_GRACE_MS = 10_000;

/** Dispatches the component's workflow for a created deployment (after a doubt, its run is looked for first). */
export async function dispatchStep(
  run: StepRun,
  authorized: EventOf<"deploy_authorized">,
  created: EventOf<"deployment_created">,
): Promise<void> {
  const deploymentId = created.data.deployment_id;
  const intent = await recordIntent(run, `dispatch:${deploymentId}`);
  if (!intent) return;
  const { deps, thread, config, ref, a } = stepWrite(run, authorized);
  const workflow = config.components[a.component]!.workflow;
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    const earlier = intent.recovering ? await findDispatchedRun(octokit, ref, workflow, deploymentId) : null;
    if (earlier)
      deps.log.info({ thread: thread.id, deployment: deploymentId }, "found the run of an earlier dispatch");
    if (
      intent.recovering &&
      !earlier &&
      deps.clock().getTime() - Date.parse(intent.recordedAt) < RUN_LISTING_GRACE_MS
    ) {
      // GitHub lists a new run after a moment: dispatching again now could start a second one.
      throw new Error(`the run of an earlier dispatch of deployment ${deploymentId} may not be listed yet`);
    }
    const dispatched =
      earlier ??
      (await dispatchWorkflow(octokit, ref, {
        workflow,
        branch: config.branch,
        inputs: {
          environment: a.environment,
          sha: a.sha,
          component: a.component,
          deployment_id: String(deploymentId),
        },
      }));
    if (dispatched.runId !== null) await deps.store.setDeploymentRun(deploymentId, dispatched.runId);
    deps.log.info(
      { thread: thread.id, deployment: deploymentId, run: dispatched.runId },
      `dispatched ${workflow} for ${a.component} ${short(a.sha)} to ${a.environment}`,
    );
    await record(run, [
      newEvent("deploy_dispatched", {
        deployment_id: deploymentId,
        workflow,
        run_id: dispatched.runId,
        run_url: dispatched.runUrl,
      }),
    ]);
  } catch (error) {
    rethrowUnlessPermanent(error);
    const summary = messageOf(error);
    deps.log.warn({ thread: thread.id, deployment: deploymentId }, summary);
    await endDeployment(deps, thread, deploymentId, "error", summary);
    await settleDeployment(run, (await deps.store.getDeployment(deploymentId))!, {
      outcome: "failure",
      summary,
      source: "dispatch",
      logUrl: null,
    });
  }
}
