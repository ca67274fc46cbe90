import { dispatchWorkflow } from "../../github/deployments.js";
import { newEvent, type EventOf } from "../../thread/events.js";
import { messageOf, rethrowUnlessPermanent } from "../step-errors.js";
import { endStep } from "./finish.js";
import { record, recordIntent, type StepRun } from "./step-run.js";
import { short, repoRefOf } from "../../thread/text.js";

/** The store ref that leads from a run deploybot dispatched to its thread and step. */
export function runRef(repo: string, runId: number): string {
  return `run:${repo.toLowerCase()}:${runId}`;
}

/**
 * `deployments: actions`: dispatches the component's workflow for an authorised step without a
 * deployment of its own; the run's job names the environment, Actions creates the deployment, and
 * deploybot adopts it (see pipeline/adopt-deployment.ts). A dispatch in doubt is not repeated: the
 * step ends as failed, saying so, rather than risk a second run.
 */
export async function dispatchRunStep(run: StepRun, authorized: EventOf<"deploy_authorized">): Promise<void> {
  const intent = await recordIntent(run, `run:${authorized.seq}`);
  if (!intent) return;
  const { deps } = run;
  const { thread } = run.view;
  const config = run.view.config!;
  const a = authorized.data;
  const workflow = config.components[a.component]!.workflow;
  if (intent.recovering) {
    await endStep(
      run,
      authorized,
      `the dispatch of ${workflow} may have started a run whose answer was lost: check its runs in Actions, then ask again`,
      "dispatch",
    );
    return;
  }
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    const dispatched = await dispatchWorkflow(octokit, repoRefOf(thread.repo), {
      workflow,
      branch: config.branch,
      inputs: { environment: a.environment, sha: a.sha, component: a.component },
    });
    if (dispatched.runId === null) {
      await endStep(
        run,
        authorized,
        `GitHub did not say which run the dispatch of ${workflow} started, so its deployment cannot be adopted`,
        "dispatch",
      );
      return;
    }
    await deps.store.setRef(
      runRef(thread.repo, dispatched.runId),
      JSON.stringify({ threadId: thread.id, stepSeq: authorized.seq }),
      deps.clock(),
    );
    deps.log.info(
      { thread: thread.id, run: dispatched.runId },
      `dispatched ${workflow} for ${a.component} ${short(a.sha)} to ${a.environment}; its job creates the deployment`,
    );
    await record(run, [
      newEvent("run_dispatched", {
        step_seq: authorized.seq,
        workflow,
        run_id: dispatched.runId,
        run_url: dispatched.runUrl,
      }),
    ]);
  } catch (error) {
    rethrowUnlessPermanent(error);
    await endStep(run, authorized, messageOf(error), "dispatch");
  }
}
