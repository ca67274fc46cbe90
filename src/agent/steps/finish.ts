import { setDeploymentStatus } from "../../github/deployments.js";
import { lockReleasedEntry } from "../../pipeline/internal-entries.js";
import type { DeploymentRecord, LockHolder } from "../../store/store.js";
import {
  newEvent,
  type EventDataOf,
  type EventOf,
  type Thread,
  type ThreadEvent,
} from "../../thread/events.js";
import { extendView, viewOf, type ThreadView } from "../../thread/view.js";
import { append, appendUnlessMoved } from "../append.js";
import type { LoopDeps } from "../loop-deps.js";
import { lockKeyOf } from "../policy.js";
import { advanceThread } from "../runner.js";
import type { StepRun } from "./step-run.js";
import { clip, short, repoRefOf } from "../../thread/text.js";

/** How a deploy step ends: its result recorded once, its deployment closed and its lock freed. */

export interface DeployOutcome {
  outcome: "success" | "failure";
  summary: string;
  source: "deployment_status" | "workflow_run" | "dispatch" | "timeout" | "abandoned";
  logUrl: string | null;
}

type Finished = EventDataOf<"deploy_finished">;

/** The `deploy_finished` event of a step, the summary cut to what the thread keeps. */
export function deployFinished(
  place: { component: string; environment: string; sha: string },
  result: Omit<Finished, "component" | "environment" | "sha">,
) {
  return newEvent("deploy_finished", {
    deployment_id: result.deployment_id,
    component: place.component,
    environment: place.environment,
    sha: place.sha,
    outcome: result.outcome,
    summary: clip(result.summary, 1_000),
    source: result.source,
    log_url: result.log_url,
  });
}

/**
 * Records a deployment's final result on its thread, once (while it is still the thread's deploy
 * in flight), reading the thread again only when another writer came first.
 */
async function recordResult(
  deps: LoopDeps,
  view: ThreadView,
  record: DeploymentRecord,
  result: DeployOutcome,
): Promise<ThreadView> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (view.state.inFlight?.created?.data.deployment_id !== record.deploymentId) return view;
    const added = await appendUnlessMoved(deps, view.thread, [
      deployFinished(record, {
        deployment_id: record.deploymentId,
        outcome: result.outcome,
        summary: result.summary,
        source: result.source,
        log_url: result.logUrl,
      }),
    ]);
    if (added) {
      deps.log.info(
        { thread: view.thread.id, deployment: record.deploymentId },
        `${record.component} ${short(record.sha)} to ${record.environment}: ${result.outcome}`,
      );
      return extendView(view, added);
    }
    const thread = await deps.store.getThread(record.threadId);
    if (!thread) return view;
    view = viewOf(thread);
  }
  return view;
}

async function closeDeployment(deps: LoopDeps, record: DeploymentRecord, outcome: DeployOutcome["outcome"]) {
  await deps.store.finishDeployment(record.deploymentId, outcome, deps.clock());
  await releaseStepLock(deps, record.repo, record.component, record.environment, {
    threadId: record.threadId,
    stepSeq: record.stepSeq,
  });
}

/**
 * Records a deployment's final result on its thread (once), frees its lock, wakes threads
 * waiting for that lock and moves the thread on. Each part is idempotent, so a crash between
 * them is repaired by handling the same result again.
 */
export async function finishDeploy(
  deps: LoopDeps,
  record: DeploymentRecord,
  result: DeployOutcome,
): Promise<void> {
  await deps.own?.(record.threadId);
  const thread = await deps.store.getThread(record.threadId);
  if (!thread) return;
  const view = await recordResult(deps, viewOf(thread), record, result);
  await closeDeployment(deps, record, result.outcome);
  await advanceThread(deps, record.threadId, view.thread);
}

/** The same, within a run of the thread's own steps: the run goes on from the recorded result. */
export async function settleDeployment(
  run: StepRun,
  record: DeploymentRecord,
  result: DeployOutcome,
): Promise<void> {
  run.view = await recordResult(run.deps, run.view, record, result);
  await closeDeployment(run.deps, record, result.outcome);
}

/**
 * Ends an authorised step that never got a deployment (GitHub refused to create it, or, with
 * `deployments: actions`, the run never made one), and frees its lock. Returns what it appended.
 */
export async function endStepWithoutDeployment(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  summary: string,
  source: "create" | "dispatch" | "timeout" | "workflow_run",
): Promise<ThreadEvent[]> {
  const a = authorized.data;
  deps.log.warn({ thread: thread.id }, `${a.kind} of ${a.component} to ${a.environment} failed: ${summary}`);
  const added = await append(deps, thread, [
    deployFinished(a, { deployment_id: null, outcome: "failure", summary, source, log_url: null }),
  ]);
  await releaseStepLock(deps, thread.repo, a.component, a.environment, {
    threadId: thread.id,
    stepSeq: authorized.seq,
  });
  return added;
}

/** The same, within a run of the thread's own steps. */
export async function endStep(
  run: StepRun,
  authorized: EventOf<"deploy_authorized">,
  summary: string,
  source: "create" | "dispatch" | "timeout" | "workflow_run",
): Promise<void> {
  const added = await endStepWithoutDeployment(run.deps, run.view.thread, authorized, summary, source);
  run.view = extendView(run.view, added);
}

/** Gives a deployment deploybot will not run a final status, so GitHub never shows it as waiting. */
export async function endDeployment(
  deps: LoopDeps,
  thread: Thread,
  deploymentId: number,
  state: "error" | "inactive",
  reason: string,
): Promise<void> {
  const octokit = await deps.octokitFor(thread.installationId);
  await setDeploymentStatus(octokit, repoRefOf(thread.repo), deploymentId, state, `deploybot: ${reason}`);
}

/**
 * Frees a step's lock and queues the wake-up of the threads waiting for it: they are other threads,
 * so their own owners advance them, never this one inline.
 */
export async function releaseStepLock(
  deps: LoopDeps,
  repo: string,
  component: string,
  environment: string,
  holder: LockHolder,
): Promise<void> {
  const lockKey = lockKeyOf(repo, component, environment);
  await deps.store.releaseLock(lockKey, holder.threadId);
  await deps.store.enqueue(
    lockReleasedEntry({ lock_key: lockKey, repo, released_by: holder.threadId }, holder.stepSeq),
    deps.clock(),
  );
}
