import { randomUUID } from "node:crypto";
import { environmentIndex } from "../config/repo-config.js";
import {
  createDeployment,
  dispatchWorkflow,
  findDeploymentForStep,
  findDispatchedRun,
  GitHubStepError,
  setDeploymentStatus,
} from "../github/deployments.js";
import { statusOf } from "../github/errors.js";
import { repoRefOf, type Octokit } from "../github/repository.js";
import type { Log } from "../log.js";
import { newEvent, type EventOf, type NewEvent, type Thread } from "../thread/events.js";
import { configOf, deriveState } from "../thread/state.js";
import { AppendConflictError, type DeploymentRecord, type LockHolder, type Store } from "../store/store.js";
import { lockReleasedEntry } from "../pipeline/internal-entries.js";
import { writePrComment } from "../github/pr-comments.js";
import { prCommentMarker, type PrCommentSync } from "./pr-comment.js";
import { SlackCallError, type SlackPort } from "../slack/client.js";
import type { Decider } from "./decide.js";
import { sendNotification } from "./notify.js";
import { eventsForVerdict, planNext, type Plan } from "./loop.js";
import { deployActionOf, type NextStep } from "../thread/next-step.js";
import { judge, lockKeyOf } from "./policy.js";
import { gatherPolicyFacts } from "./policy-facts.js";
import { unreachableApproval } from "./approvers.js";

/**
 * Runs a thread forward until it must wait: plan (pure), then do exactly that one thing at the
 * edge, append what happened, and plan again. Every append is conditional on the last seq this
 * run saw, so two workers can never both act on the same thread state.
 */

export interface LoopDeps {
  store: Store;
  decider: Decider;
  octokitFor(installationId: number): Promise<Octokit>;
  clock: () => Date;
  log: Log;
  /** Slack, when SLACK_BOT_TOKEN is set; threads of repositories with a `slack.channel` post there. */
  slack?: SlackPort | null;
  /** The GitHub web address for links, e.g. https://github.com or a GitHub Enterprise Server. */
  githubUrl?: string;
  newId?: () => string;
  /** Whether threads keep a comment on their pull request up to date (needs `pull_requests: write`). */
  prComments?: boolean;
  /**
   * Takes the thread's lease for the work in hand, or throws ThreadBusyError (the worker passes it
   * in; a caller without it, such as a test, owns the thread by construction).
   */
  own?: (threadId: string) => Promise<void>;
  /**
   * The app's installation covering a repository, or null when it is not installed there (asked of
   * GitHub with the app's token when no merge was seen); absent: only repositories seen before.
   */
  installationOf?: (repo: string) => Promise<number | null>;
}

const MAX_STEPS_PER_RUN = 30;

function lastSeqOf(thread: Thread): number {
  return thread.events.at(-1)?.seq ?? 0;
}

/** Retryable: the outside service may answer later (5xx, network); the inbox entry is retried. */
function isTransient(error: unknown): boolean {
  return (
    !(error instanceof GitHubStepError) ||
    error.status === undefined ||
    error.status >= 500 ||
    error.status === 429
  );
}

export async function advanceThread(deps: LoopDeps, threadId: string): Promise<void> {
  // Writes (Slack posts, GitHub deployments and dispatches) whose intent this very run recorded:
  // no earlier attempt to look for. Any other recorded intent is a doubt: look before writing.
  const intentsHere = new Set<string>();
  for (let step = 0; step < MAX_STEPS_PER_RUN; step++) {
    await deps.own?.(threadId);
    const thread = await deps.store.getThread(threadId);
    if (!thread) throw new Error(`thread ${threadId} not found`);
    const plan = planNext(thread, {
      now: deps.clock(),
      notify: Boolean(deps.slack),
      prComments: deps.prComments ?? false,
    });
    if (plan.kind === "idle" || plan.kind === "wait") {
      deps.log.debug(
        { thread: threadId, plan: plan.kind },
        plan.kind === "wait" ? `waiting: ${plan.waitingOn}` : plan.reason,
      );
      return;
    }
    try {
      if ((await execute(deps, thread, plan, intentsHere)) === "settled") return;
    } catch (error) {
      if (error instanceof AppendConflictError) {
        deps.log.debug({ thread: threadId }, "another worker moved the thread on; planning again");
        continue;
      }
      await recordOutage(deps, thread, error);
      throw error;
    }
  }
  deps.log.warn(
    { thread: threadId },
    `thread did not settle within ${MAX_STEPS_PER_RUN} steps; it resumes on the next event`,
  );
}

/** GitHub did not answer, or answered 5xx or 429: worth waiting for (a 4xx or a bug is not). */
function githubOutage(error: unknown): boolean {
  if (error instanceof GitHubStepError) return isTransient(error);
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return true;
  const status = statusOf(error);
  return status !== undefined && (status >= 500 || status === 429);
}

/** Shows on the thread which service it waits for, once per outage; the step itself is retried. */
async function recordOutage(deps: LoopDeps, thread: Thread, error: unknown): Promise<void> {
  const service =
    error instanceof SlackCallError
      ? error.transient
        ? "slack"
        : null
      : githubOutage(error)
        ? "github"
        : null;
  if (!service) return;
  if (thread.events.at(-1)?.type === "service_unavailable") return;
  const message =
    error instanceof Error ? error.message.split("\n")[0]!.slice(0, 300) : String(error).slice(0, 300);
  await append(deps, thread, [newEvent("service_unavailable", { service, error: message })]).catch(
    (appendError: unknown) =>
      deps.log.warn({ thread: thread.id }, `could not record the outage: ${String(appendError)}`),
  );
}

/**
 * Appends after the last event of `thread` as the caller read it (AppendConflictError when another
 * writer came first), passing those events so the store derives the status without reading back.
 */
export async function append(deps: LoopDeps, thread: Thread, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await deps.store.appendEvents(thread.id, lastSeqOf(thread), events, deps.clock(), thread.events);
}

async function execute(
  deps: LoopDeps,
  thread: Thread,
  plan: Exclude<Plan, { kind: "idle" | "wait" }>,
  intentsHere: Set<string>,
): Promise<"settled" | void> {
  switch (plan.kind) {
    case "decide": {
      const result = await deps.decider.decide({ thread, config: plan.config });
      if (result.ok) {
        deps.log.info(
          {
            thread: thread.id,
            intent: result.step.intent,
            decider: result.meta.decider,
            ms: result.meta.latency_ms,
          },
          `decided ${describeStep(result.step)}`,
        );
        await append(deps, thread, [newEvent("decision", { ...result.meta, step: result.step })]);
      } else {
        deps.log.warn(
          { thread: thread.id, decider: result.meta.decider },
          `unusable decision: ${result.error}`,
        );
        await append(deps, thread, [
          newEvent("decision_error", { ...result.meta, error: result.error.slice(0, 500) }),
        ]);
      }
      return;
    }
    case "notify": {
      // Record the intent first: a crash after Slack answers leaves it, and the retry looks for the
      // message before posting again.
      const key = plan.notification.key;
      const intended = thread.events.some((e) => e.type === "slack_posting" && e.data.key === key);
      if (!intended) {
        await append(deps, thread, [newEvent("slack_posting", { key })]);
        intentsHere.add(key);
        return;
      }
      const events = await sendNotification(
        {
          slack: deps.slack!,
          octokitFor: deps.octokitFor,
          githubUrl: deps.githubUrl ?? "https://github.com",
          log: deps.log,
          setRef: (key, value) => deps.store.setRef(key, value, deps.clock()),
        },
        thread,
        plan.notification,
        { recovering: !intentsHere.has(key) },
      );
      await append(deps, thread, events);
      return;
    }
    case "deploy_timeout": {
      const record = await deps.store.getDeployment(plan.created.data.deployment_id);
      const minutes = Math.round(plan.timeoutMs / 60_000);
      const summary = `no final deployment status within ${minutes} minutes (deploy_timeout)`;
      deps.log.warn({ thread: thread.id, deployment: plan.created.data.deployment_id }, summary);
      const octokit = await deps.octokitFor(thread.installationId);
      await setDeploymentStatus(
        octokit,
        repoRefOf(thread.repo),
        plan.created.data.deployment_id,
        "error",
        `deploybot: ${summary}`,
      );
      if (record)
        await finishDeploy(deps, record, { outcome: "failure", summary, source: "timeout", logUrl: null });
      return;
    }
    case "expire_approval":
      deps.log.info({ thread: thread.id }, `approval ${plan.approvalId} expired without a decision`);
      await append(deps, thread, [newEvent("approval_expired", { approval_id: plan.approvalId })]);
      return;
    case "escalate":
      deps.log.warn({ thread: thread.id }, `thread needs a human: ${plan.reason}`);
      await append(deps, thread, [
        newEvent("human_needed", { question: plan.question, reason: plan.reason }),
      ]);
      return;
    case "finish":
      deps.log.info({ thread: thread.id }, plan.message);
      await append(deps, thread, [newEvent("done", { message: plan.message, by: "code" })]);
      return;
    case "judge":
      return judgeStep(deps, thread, plan.step, plan.approved);
    case "create_deployment": {
      const intent = await recordIntent(deps, thread, `deployment:${plan.authorized.seq}`, intentsHere);
      if (intent) await createStepDeployment(deps, thread, plan.authorized, intent);
      return;
    }
    case "dispatch": {
      const key = `dispatch:${plan.created.data.deployment_id}`;
      const intent = await recordIntent(deps, thread, key, intentsHere);
      if (intent) await dispatchStep(deps, thread, plan.authorized, plan.created, intent);
      return;
    }
    case "pr_comment":
      await syncPrComment(deps, thread, plan.sync, intentsHere);
      return;
    case "dispatch_run": {
      const intent = await recordIntent(deps, thread, `run:${plan.authorized.seq}`, intentsHere);
      if (intent) await dispatchRunStep(deps, thread, plan.authorized, intent);
      return;
    }
    case "run_timeout": {
      const minutes = Math.round(plan.timeoutMs / 60_000);
      await endStepWithoutDeployment(
        deps,
        thread,
        plan.authorized,
        `run ${plan.run.data.run_id} created no deployment within ${minutes} minutes (deploy_timeout): does its job name \`environment: ${plan.authorized.data.environment}\`?`,
        "timeout",
      );
      return;
    }
    case "abandon_deployment":
      await abandonDeployment(deps, thread, plan.authorized, plan.created, plan.reason);
      return;
  }
}

/** Creates or updates the thread's comment on its pull request (the intent recorded before a create). */
async function syncPrComment(
  deps: LoopDeps,
  thread: Thread,
  sync: PrCommentSync,
  intentsHere: Set<string>,
): Promise<void> {
  const key = `pr_comment:${sync.number}`;
  if (sync.commentId === null) {
    const intended = thread.events.some((e) => e.type === "pr_comment_posting");
    if (!intended) {
      await append(deps, thread, [newEvent("pr_comment_posting", { number: sync.number })]);
      intentsHere.add(key);
      return;
    }
  }
  const result = await writePrComment(await deps.octokitFor(thread.installationId), repoRefOf(thread.repo), {
    number: sync.number,
    body: sync.body,
    marker: prCommentMarker(thread.id),
    commentId: sync.commentId,
    recovering: !intentsHere.has(key),
  });
  if (result.error) {
    deps.log.warn({ thread: thread.id }, `could not comment on #${sync.number}: ${result.error}`);
  }
  await append(deps, thread, [
    newEvent("pr_comment_synced", {
      number: sync.number,
      comment_id: result.commentId,
      digest: sync.digest,
      error: result.error,
    }),
  ]);
}

/** How a GitHub write stands: recorded by this run (write at once) or earlier (look first). */
interface WriteIntent {
  recovering: boolean;
  recordedAt: string;
}

/**
 * Records the intent of a GitHub write before making it, so that after any doubt the write is
 * looked for before it is made again. Returns null when it just recorded it (the loop plans again).
 */
async function recordIntent(
  deps: LoopDeps,
  thread: Thread,
  key: string,
  intentsHere: Set<string>,
): Promise<WriteIntent | null> {
  const recorded = thread.events.findLast((e) => e.type === "github_writing" && e.data.key === key);
  if (!recorded) {
    await append(deps, thread, [newEvent("github_writing", { key })]);
    intentsHere.add(key);
    return null;
  }
  return { recovering: !intentsHere.has(key), recordedAt: recorded.at };
}

export function describeStep(step: NextStep): string {
  const action = deployActionOf(step);
  if (action) return `${action.kind} ${action.component} ${action.sha.slice(0, 7)} to ${action.environment}`;
  return step.intent;
}

/** Judges a step and records the verdict; "settled" when the step still waits and nothing changed. */
async function judgeStep(
  deps: LoopDeps,
  thread: Thread,
  step: NextStep,
  approved: boolean,
): Promise<"settled" | void> {
  const config = configOf(thread.events)!;
  const state = deriveState(thread.events);
  const action = deployActionOf(step);
  const lockKey = action ? lockKeyOf(thread.repo, action.component, action.environment) : null;
  const { facts, observed, lock } = await gatherPolicyFacts(deps, thread, step, approved);
  let verdict = judge(step, facts);

  let acquired = false;
  if (verdict.kind === "allow" && verdict.action && verdict.lockKey) {
    const result = await deps.store.acquireLock(
      verdict.lockKey,
      { threadId: thread.id, stepSeq: lastSeqOf(thread) + observed.length + 1 },
      deps.clock(),
    );
    if (result.acquired) acquired = !lock;
    else {
      verdict = {
        kind: "wait",
        action: verdict.action,
        lockKey: verdict.lockKey,
        reason: `another deploy of ${verdict.action.component} to ${verdict.action.environment} is running`,
      };
    }
  }

  const environment = action ? config.environments[environmentIndex(config, action.environment)] : undefined;
  const expiresAfter = environment?.approval_expires_after ?? null;
  // An approval nobody can give would wait forever: say so at once instead.
  const unreachable =
    verdict.kind === "needs_approval" && action
      ? unreachableApproval(config, action.environment, { slack: Boolean(deps.slack && config.slack) })
      : null;
  const events = unreachable
    ? [newEvent("failed", { reason: unreachable.slice(0, 1_000) })]
    : eventsForVerdict(step, verdict, {
        approvalId: (deps.newId ?? (() => `ap_${randomUUID().replaceAll("-", "").slice(0, 20)}`))(),
        alreadyDeferred: state.deferred !== null,
        expiresAt:
          expiresAfter === null ? null : new Date(deps.clock().getTime() + expiresAfter).toISOString(),
      });
  try {
    await append(deps, thread, [...observed, ...events]);
  } catch (error) {
    if (acquired && verdict.kind === "allow" && verdict.lockKey) {
      await deps.store.releaseLock(verdict.lockKey, thread.id);
    }
    throw error;
  }
  const recorded = events[0];
  if (!recorded) {
    deps.log.debug({ thread: thread.id }, `still waiting for lock ${lockKey}`);
    return "settled";
  }
  if (recorded.type === "policy_refused") {
    deps.log.info({ thread: thread.id }, `policy refused ${describeStep(step)}: ${recorded.data.reason}`);
  } else if (recorded.type === "human_needed") {
    deps.log.warn({ thread: thread.id }, `thread asks a human: ${recorded.data.question}`);
  } else if (recorded.type === "approval_requested") {
    await deps.store.setRef(`approval:${recorded.data.approval_id}`, thread.id, deps.clock());
    deps.log.info(
      { thread: thread.id },
      `approval ${recorded.data.approval_id} requested for ${describeStep(step)}`,
    );
  }
}

/** How long GitHub may take to list the run of a dispatch before a dispatch counts as lost. */
const RUN_LISTING_GRACE_MS = 10_000;

async function createStepDeployment(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  intent: WriteIntent,
): Promise<void> {
  const config = configOf(thread.events)!;
  const ref = repoRefOf(thread.repo);
  const a = authorized.data;
  const environment = config.environments[environmentIndex(config, a.environment)]!;
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    // The step's idempotency key is (thread, seq of deploy_authorized). After a doubt, look first:
    // GitHub may have created the deployment even though its answer never arrived.
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
        requiredContexts: environment.required_contexts ?? [],
        productionEnvironment: environmentIndex(config, a.environment) === config.environments.length - 1,
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
    await append(deps, thread, [
      newEvent("deployment_created", {
        step_seq: authorized.seq,
        deployment_id: deploymentId,
        component: a.component,
        environment: a.environment,
        sha: a.sha,
      }),
    ]);
  } catch (error) {
    if (isTransient(error) || error instanceof AppendConflictError) throw error;
    await endStepWithoutDeployment(
      deps,
      thread,
      authorized,
      error instanceof Error ? error.message : String(error),
      "create",
    );
  }
}

async function dispatchStep(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  created: EventOf<"deployment_created">,
  intent: WriteIntent,
): Promise<void> {
  const config = configOf(thread.events)!;
  const ref = repoRefOf(thread.repo);
  const a = authorized.data;
  const deploymentId = created.data.deployment_id;
  const workflow = config.components[a.component]!.workflow;
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    // After a doubt it is unknown whether the dispatch went out: look for its run before sending another.
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
    const run =
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
    if (run.runId !== null) await deps.store.setDeploymentRun(deploymentId, run.runId);
    deps.log.info(
      { thread: thread.id, deployment: deploymentId, run: run.runId },
      `dispatched ${workflow} for ${a.component} ${a.sha.slice(0, 7)} to ${a.environment}`,
    );
    await append(deps, thread, [
      newEvent("deploy_dispatched", {
        deployment_id: deploymentId,
        workflow,
        run_id: run.runId,
        run_url: run.runUrl,
      }),
    ]);
  } catch (error) {
    if (isTransient(error) || error instanceof AppendConflictError) throw error;
    const summary = error instanceof Error ? error.message : String(error);
    deps.log.warn({ thread: thread.id, deployment: deploymentId }, summary);
    await endDeployment(deps, thread, deploymentId, "error", summary);
    await finishDeploy(deps, (await deps.store.getDeployment(deploymentId))!, {
      outcome: "failure",
      summary,
      source: "dispatch",
      logUrl: null,
    });
  }
}

/**
 * `deployments: actions`: dispatches the component's workflow for an authorised step without a
 * deployment of its own; the run's job names the environment, Actions creates the deployment, and
 * deploybot adopts it (see pipeline/adopt-deployment.ts). A dispatch in doubt is not repeated: the
 * step ends as failed, saying so, rather than risk a second run.
 */
async function dispatchRunStep(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  intent: WriteIntent,
): Promise<void> {
  const config = configOf(thread.events)!;
  const a = authorized.data;
  const workflow = config.components[a.component]!.workflow;
  if (intent.recovering) {
    await endStepWithoutDeployment(
      deps,
      thread,
      authorized,
      `the dispatch of ${workflow} may have started a run whose answer was lost: check its runs in Actions, then ask again`,
      "dispatch",
    );
    return;
  }
  const octokit = await deps.octokitFor(thread.installationId);
  try {
    const run = await dispatchWorkflow(octokit, repoRefOf(thread.repo), {
      workflow,
      branch: config.branch,
      inputs: { environment: a.environment, sha: a.sha, component: a.component },
    });
    if (run.runId === null) {
      await endStepWithoutDeployment(
        deps,
        thread,
        authorized,
        `GitHub did not say which run the dispatch of ${workflow} started, so its deployment cannot be adopted`,
        "dispatch",
      );
      return;
    }
    await deps.store.setRef(
      runRef(thread.repo, run.runId),
      JSON.stringify({ threadId: thread.id, stepSeq: authorized.seq }),
      deps.clock(),
    );
    deps.log.info(
      { thread: thread.id, run: run.runId },
      `dispatched ${workflow} for ${a.component} ${a.sha.slice(0, 7)} to ${a.environment}; its job creates the deployment`,
    );
    await append(deps, thread, [
      newEvent("run_dispatched", {
        step_seq: authorized.seq,
        workflow,
        run_id: run.runId,
        run_url: run.runUrl,
      }),
    ]);
  } catch (error) {
    if (isTransient(error) || error instanceof AppendConflictError) throw error;
    const summary = error instanceof Error ? error.message : String(error);
    await endStepWithoutDeployment(deps, thread, authorized, summary, "dispatch");
  }
}

/** The store ref that leads from a run deploybot dispatched to its thread and step. */
export function runRef(repo: string, runId: number): string {
  return `run:${repo.toLowerCase()}:${runId}`;
}

/**
 * Ends an authorised step that never got a deployment (GitHub refused to create it, or, with
 * `deployments: actions`, the run never made one), and frees its lock.
 */
export async function endStepWithoutDeployment(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  summary: string,
  source: "create" | "dispatch" | "timeout" | "workflow_run",
): Promise<void> {
  const a = authorized.data;
  deps.log.warn({ thread: thread.id }, `${a.kind} of ${a.component} to ${a.environment} failed: ${summary}`);
  await append(deps, thread, [
    newEvent("deploy_finished", {
      deployment_id: null,
      component: a.component,
      environment: a.environment,
      sha: a.sha,
      outcome: "failure",
      summary: summary.slice(0, 1_000),
      source,
      log_url: null,
    }),
  ]);
  await releaseLock(deps, thread.repo, a.component, a.environment, {
    threadId: thread.id,
    stepSeq: authorized.seq,
  });
}

/** Gives a deployment deploybot will not run a final status, so GitHub never shows it as waiting. */
async function endDeployment(
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
 * A thread that ended (cancelled) between deciding a deploy and dispatching it lets the deployment
 * go: found (also one whose creation was in doubt), marked inactive on GitHub, and the lock freed.
 */
async function abandonDeployment(
  deps: LoopDeps,
  thread: Thread,
  authorized: EventOf<"deploy_authorized">,
  created: EventOf<"deployment_created"> | null,
  reason: string,
): Promise<void> {
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
  const record = deploymentId !== null ? await deps.store.getDeployment(deploymentId) : null;
  if (record && created) {
    await finishDeploy(deps, record, {
      outcome: "failure",
      summary: reason,
      source: "abandoned",
      logUrl: null,
    });
    return;
  }
  if (record) await deps.store.finishDeployment(record.deploymentId, "failure", deps.clock());
  await append(deps, thread, [
    newEvent("deploy_finished", {
      deployment_id: deploymentId,
      component: a.component,
      environment: a.environment,
      sha: a.sha,
      outcome: "failure",
      summary: reason,
      source: "abandoned",
      log_url: null,
    }),
  ]);
  await releaseLock(deps, thread.repo, a.component, a.environment, {
    threadId: thread.id,
    stepSeq: authorized.seq,
  });
}

export interface DeployOutcome {
  outcome: "success" | "failure";
  summary: string;
  source: "deployment_status" | "workflow_run" | "dispatch" | "timeout" | "abandoned";
  logUrl: string | null;
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
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = await deps.store.getThread(record.threadId);
    if (!thread) return;
    const inFlight = deriveState(thread.events).inFlight;
    if (inFlight?.created?.data.deployment_id !== record.deploymentId) break;
    try {
      await append(deps, thread, [
        newEvent("deploy_finished", {
          deployment_id: record.deploymentId,
          component: record.component,
          environment: record.environment,
          sha: record.sha,
          outcome: result.outcome,
          summary: result.summary.slice(0, 1_000),
          source: result.source,
          log_url: result.logUrl,
        }),
      ]);
      deps.log.info(
        { thread: thread.id, deployment: record.deploymentId },
        `${record.component} ${record.sha.slice(0, 7)} to ${record.environment}: ${result.outcome}`,
      );
      break;
    } catch (error) {
      if (!(error instanceof AppendConflictError)) throw error;
    }
  }
  await deps.store.finishDeployment(record.deploymentId, result.outcome, deps.clock());
  await releaseLock(deps, record.repo, record.component, record.environment, {
    threadId: record.threadId,
    stepSeq: record.stepSeq,
  });
  await advanceThread(deps, record.threadId);
}

/**
 * Frees a step's lock and queues the wake-up of the threads waiting for it: they are other threads,
 * so their own owners advance them, never this one inline.
 */
async function releaseLock(
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
