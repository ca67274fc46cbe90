import { randomUUID } from "node:crypto";
import { z } from "zod";
import { advanceThread } from "./agent/runner.js";
import { finishDeploy } from "./agent/steps/finish.js";
import type { LoopDeps } from "./agent/loop-deps.js";
import {
  DeploymentCreatedHook,
  DeploymentProtectionRuleRequested,
  DeploymentStatusCreated,
  IssueCommentCreated,
  PullRequestClosed,
  WorkflowRunCompleted,
  deploymentIdInRunTitle,
  finalOutcome,
} from "./github/webhooks.js";
import { ApiControl, ApiLaunch, controlFromApi, launchFromApi } from "./pipeline/api-inbox.js";
import { API_DECISION_KIND, ApiDecision, decideFromApi } from "./pipeline/approvals.js";
import { handlePrComment } from "./pipeline/pr-commands.js";
import { adoptDeployment, runEndedWithoutDeployment } from "./pipeline/adopt-deployment.js";
import { reviewDeploymentGate } from "./pipeline/deployment-gate.js";
import { ingestMerge } from "./pipeline/ingest.js";
import {
  ApprovalClick,
  decideApproval,
  handleSlackEvent,
  handleSlashRequest,
  Rejection,
  SlackEvent,
  SlashRequest,
} from "./pipeline/slack-inbox.js";
import { repoRefOf } from "./github/repository.js";
import { compactFailure, runIdFromUrl } from "./pipeline/failure.js";
import { INTERNAL_KINDS, LockReleased, SupersedeThread, WakeThread } from "./pipeline/internal-entries.js";
import { handleLockReleased, supersedeThread, wakeThread } from "./pipeline/lock-wake.js";
import { ThreadBusyError, ThreadLeases } from "./agent/ownership.js";
import type { DeploymentRecord, InboxEntry } from "./store/store.js";
import { UNFINISHED_STATUSES } from "./thread/events.js";

/**
 * The worker: takes verified requests from the durable inbox, several at once (never two of the same
 * thread: each takes the thread's lease first) and hands each to the domain. A failure is retried
 * with backoff (the entry stays in the inbox); an entry whose thread is busy elsewhere waits untried;
 * a payload that can never be handled is set aside as dead, with the reason, and logged.
 */

export interface WorkerDeps extends LoopDeps {
  /** The GitHub App's id: deployment statuses written by the app itself are ignored. */
  appId: number | null;
  pollMs: number;
  /** How long an inbox entry's and a thread's lease last without renewal (a crash frees them then). */
  leaseMs?: number;
  maxAttempts?: number;
  workerId?: string;
  /** Entries handled at once (DEPLOYBOT_WORKER_CONCURRENCY). */
  concurrency?: number;
  /** How often unfinished threads nobody holds are looked at (crashes, timers). */
  recoveryIntervalMs?: number;
  /** Finished threads are deleted this many days after they ended (DEPLOYBOT_RETENTION_DAYS). */
  retentionDays?: number;
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_CONCURRENCY = 4;
const RECOVERY_INTERVAL_MS = 60_000;
/** An entry whose thread another worker holds is looked at again after this long. */
const BUSY_RETRY_MS = 1_000;

class PermanentError extends Error {}

function parsePayload<T>(schema: z.ZodType<T>, entry: InboxEntry): T {
  const result = schema.safeParse(entry.payload);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new PermanentError(`${entry.kind} payload is missing what deploybot needs: ${problems.join("; ")}`);
  }
  return result.data;
}

/** Handles one inbox entry; returns a short note of what happened. */
export async function handleEntry(deps: WorkerDeps, entry: InboxEntry): Promise<string> {
  switch (entry.kind) {
    case "pull_request.closed": {
      const outcome = await ingestMerge(deps, parsePayload(PullRequestClosed, entry));
      return outcome.kind === "skipped" ? `skipped: ${outcome.reason}` : `thread ${outcome.threadId}`;
    }
    case "deployment_status.created": {
      const payload = parsePayload(DeploymentStatusCreated, entry);
      const status = payload.deployment_status;
      if (deps.appId !== null && status.performed_via_github_app?.id === deps.appId) {
        return "skipped: a status deploybot wrote itself";
      }
      const outcome = finalOutcome(status.state);
      if (!outcome) return `skipped: progress state ${status.state}`;
      const record = await deps.store.getDeployment(payload.deployment.id);
      if (!record) return `skipped: deployment ${payload.deployment.id} was not created by deploybot`;
      if (record.state !== "pending")
        return `skipped: deployment ${record.deploymentId} already ${record.state}`;
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
    case "workflow_run.completed": {
      const { workflow_run: run } = parsePayload(WorkflowRunCompleted, entry);
      const byTitle = deploymentIdInRunTitle(run.display_title);
      const record =
        (await deps.store.getDeploymentByRun(run.id)) ??
        (byTitle !== null ? await deps.store.getDeployment(byTitle) : null);
      if (!record) {
        const parsed = parsePayload(WorkflowRunCompleted, entry);
        return (
          (await runEndedWithoutDeployment(deps, parsed)) ??
          `skipped: run ${run.id} is not a deploybot deploy`
        );
      }
      if (record.state !== "pending")
        return `skipped: deployment ${record.deploymentId} already ${record.state}`;
      // The workflow should have set a final deployment status; a run that ends without one ends the deploy.
      await finishDeploy(deps, record, {
        outcome: run.conclusion === "success" ? "success" : "failure",
        summary:
          run.conclusion === "success"
            ? `workflow run ${run.name ?? run.id} succeeded without a final deployment status`
            : await failureSummary(
                deps,
                record,
                run.id,
                `workflow run ${run.name ?? run.id} concluded ${run.conclusion ?? "without a conclusion"} without a final deployment status`,
              ),
        source: "workflow_run",
        logUrl: run.html_url,
      });
      return `deployment ${record.deploymentId} ended by its workflow run`;
    }
    case "deployment.created":
      return adoptDeployment(deps, parsePayload(DeploymentCreatedHook, entry));
    case "deployment_protection_rule.requested":
      return reviewDeploymentGate(deps, parsePayload(DeploymentProtectionRuleRequested, entry));
    case "issue_comment.created":
      return handlePrComment(deps, parsePayload(IssueCommentCreated, entry));
    case API_DECISION_KIND:
      return decideFromApi(deps, parsePayload(ApiDecision, entry));
    case "slack.approve": {
      const click = parsePayload(ApprovalClick, entry);
      return decideApproval(deps, {
        approvalId: click.approval_id,
        user: click.user,
        channel: click.channel,
        decision: "approve",
        ...(click.clicked_at ? { clickedAt: click.clicked_at } : {}),
      });
    }
    case "slack.reject": {
      const rejection = parsePayload(Rejection, entry);
      return decideApproval(deps, {
        approvalId: rejection.approval_id,
        user: rejection.user,
        channel: null,
        decision: "reject",
        reason: rejection.reason,
        ...(rejection.clicked_at ? { clickedAt: rejection.clicked_at } : {}),
      });
    }
    case "slack.event":
      return handleSlackEvent(deps, parsePayload(SlackEvent, entry));
    case "slack.command":
      return handleSlashRequest(deps, parsePayload(SlashRequest, entry), entry.deliveryId);
    case "api.launch":
      return launchFromApi(deps, parsePayload(ApiLaunch, entry));
    case "api.control":
      return controlFromApi(deps, parsePayload(ApiControl, entry));
    case INTERNAL_KINDS.lockReleased:
      return handleLockReleased(deps, parsePayload(LockReleased, entry), entry.deliveryId);
    case INTERNAL_KINDS.wake:
      return wakeThread(deps, parsePayload(WakeThread, entry));
    case INTERNAL_KINDS.supersede:
      return supersedeThread(deps, parsePayload(SupersedeThread, entry));
    default:
      return `skipped: deploybot does not handle ${entry.kind}`;
  }
}

/** A failed deploy, compacted from its run's jobs and log; the plain statement when that fails. */
async function failureSummary(
  deps: WorkerDeps,
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

/** Runs `work` holding (and renewing) the inbox entry's lease and the leases of the threads it owns. */
async function withLeases<T>(
  deps: WorkerDeps,
  leases: ThreadLeases,
  entry: InboxEntry | null,
  work: (leases: ThreadLeases) => Promise<T>,
): Promise<T> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  // Keep the leases while the work runs (a model call can be slow); a crash stops renewing them,
  // and another worker takes the entry and its threads over once they lapse.
  const heartbeat = setInterval(
    () => {
      const until = new Date(deps.clock().getTime() + leaseMs);
      void Promise.all([
        entry ? deps.store.renewInboxLease(entry.id, deps.workerId ?? "worker", until) : null,
        leases.renew(),
      ]).catch((error: unknown) => deps.log.warn({}, `could not renew leases: ${String(error)}`));
    },
    Math.max(500, leaseMs / 3),
  );
  try {
    return await work(leases);
  } finally {
    clearInterval(heartbeat);
    await leases
      .releaseAll()
      .catch((error: unknown) =>
        deps.log.warn({}, `could not give the thread leases back: ${String(error)}`),
      );
  }
}

let taskCounter = 0;
/** The leases of one unit of work, owned under a name no other work shares. */
const newLeases = (deps: WorkerDeps) =>
  new ThreadLeases(deps, `${deps.workerId ?? "worker"}#${++taskCounter}`, deps.leaseMs ?? DEFAULT_LEASE_MS);

/** Handles one claimed entry to its end: done, retried later, deferred (thread busy) or dead. */
export async function processEntry(
  deps: WorkerDeps,
  entry: InboxEntry,
  leases: ThreadLeases = newLeases(deps),
): Promise<void> {
  const fields = { delivery: entry.deliveryId, event: entry.kind, attempt: entry.attempts };
  try {
    const note = await withLeases(deps, leases, entry, (held) =>
      handleEntry({ ...deps, own: held.own }, entry),
    );
    await deps.store.finishInbox(entry.id, "done", note, deps.clock());
    deps.log.debug(fields, note);
  } catch (error) {
    if (error instanceof ThreadBusyError) {
      // Its owner is at work on it: the entry waits, untried, and is handled once the owner lets go.
      await deps.store.deferInbox(entry.id, error.message, new Date(deps.clock().getTime() + BUSY_RETRY_MS));
      deps.log.debug({ ...fields, thread: error.threadId }, error.message);
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (error instanceof PermanentError || entry.attempts >= maxAttempts) {
      await deps.store.finishInbox(entry.id, "dead", message.slice(0, 1_000), deps.clock());
      deps.log.error(fields, `gave up on ${entry.kind} delivery ${entry.deliveryId}: ${message}`);
    } else {
      const delayMs = Math.min(5_000 * 2 ** (entry.attempts - 1), 10 * 60_000);
      await deps.store.retryInbox(
        entry.id,
        message.slice(0, 1_000),
        new Date(deps.clock().getTime() + delayMs),
      );
      deps.log.warn(fields, `${entry.kind} failed, retrying in ${Math.round(delayMs / 1000)}s: ${message}`);
    }
  }
}

/** Claims and handles one due inbox entry; returns false when there was none. */
export async function processNextEntry(deps: WorkerDeps): Promise<boolean> {
  const entry = await deps.store.claimInbox(
    deps.workerId ?? "worker",
    deps.clock(),
    deps.leaseMs ?? DEFAULT_LEASE_MS,
  );
  if (!entry) return false;
  await processEntry(deps, entry);
  return true;
}

/** Paused threads too: a deploy that was running when the thread was paused still times out. */
const UNFINISHED = UNFINISHED_STATUSES;
const SWEEP_PAGE = 100;
const DAY_MS = 24 * 60 * 60_000;
/** Delivery ids are kept this long for deduplication: GitHub Enterprise Server redelivers for 7 days. */
const DELIVERY_RETENTION_MS = 8 * DAY_MS;
const RETENTION_INTERVAL_MS = 60 * 60_000;
const DEFAULT_RETENTION_DAYS = 90;

/** Deletes what is kept no longer: old delivery ids and idempotency records, long-finished threads. */
export async function pruneRetained(deps: WorkerDeps): Promise<void> {
  const now = deps.clock().getTime();
  const pruned = await deps.store.pruneRetained({
    deliveriesBefore: new Date(now - DELIVERY_RETENTION_MS),
    threadsBefore: new Date(now - (deps.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS),
  });
  if (pruned.deliveries > 0 || pruned.threads > 0) {
    deps.log.info(
      {},
      `retention: deleted ${pruned.deliveries} handled inbox entries and ${pruned.threads} finished threads`,
    );
  }
}

/**
 * Moves on threads that a crash or an outage left mid-step, and lets time act on waiting ones
 * (approval reminders and expiry, deploy timeouts). Only threads nobody holds are taken, each under
 * its own lease; waiting threads with nothing due cost one read each.
 */
export async function recoverThreads(
  deps: WorkerDeps,
  isStopped: () => boolean = () => false,
): Promise<number> {
  let advanced = 0;
  let after: string | undefined;
  // Page through every unowned unfinished thread: however many wait, each is looked at every sweep.
  for (;;) {
    const threads = await deps.store.unownedThreads(UNFINISHED, deps.clock(), SWEEP_PAGE, after);
    for (const thread of threads) {
      if (isStopped()) return advanced;
      try {
        await withLeases(deps, newLeases(deps), null, async (held) => {
          await advanceThread({ ...deps, own: held.own }, thread.id);
        });
        advanced++;
      } catch (error) {
        if (error instanceof ThreadBusyError) continue; // another worker took it meanwhile
        deps.log.warn({ thread: thread.id }, `could not resume thread yet: ${String(error)}`);
      }
    }
    if (threads.length < SWEEP_PAGE) return advanced;
    after = threads.at(-1)!.id;
  }
}

export interface RunningWorker {
  /** Stops claiming, lets running work finish within `graceMs`, then gives every lease back. */
  stop(graceMs?: number): Promise<void>;
  /** Handles every due entry now; for tests and for a graceful shutdown. */
  drain(): Promise<void>;
}

interface Task {
  entry: InboxEntry;
  leases: ThreadLeases;
  done: Promise<void>;
}

/** How long the leases of work cut off by a shutdown stay, so that a write on the wire lands first. */
const HAND_BACK_SAFETY_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function startWorker(deps: WorkerDeps): RunningWorker {
  const worker = { ...deps, workerId: deps.workerId ?? `worker-${randomUUID().slice(0, 8)}` };
  const concurrency = Math.max(1, deps.concurrency ?? DEFAULT_CONCURRENCY);
  // One repository may take at most half of the slots: a slow one never stalls the others.
  const perPartition = Math.max(1, Math.floor(concurrency / 2));
  const leaseMs = worker.leaseMs ?? DEFAULT_LEASE_MS;
  // Threads a crashed worker held are free once their lease lapses: look soon after that.
  const recoveryIntervalMs =
    deps.recoveryIntervalMs ?? Math.min(RECOVERY_INTERVAL_MS, Math.max(5_000, 2 * leaseMs));
  const tasks = new Map<number, Task>();
  let stopped = false;
  let filling: Promise<void> | null = null;
  let refill = false;
  let recovery: Promise<unknown> | null = null;
  let lastRecovery = 0;
  let lastRetention = 0;

  const busyPartitions = (): string[] => {
    const counts = new Map<string, number>();
    for (const { entry } of tasks.values()) {
      if (entry.partition) counts.set(entry.partition, (counts.get(entry.partition) ?? 0) + 1);
    }
    return [...counts].filter(([, n]) => n >= perPartition).map(([partition]) => partition);
  };

  const fillSlots = async (): Promise<void> => {
    while (!stopped && tasks.size < concurrency) {
      const entry = await worker.store.claimInbox(worker.workerId, worker.clock(), leaseMs, {
        skipPartitions: busyPartitions(),
      });
      if (!entry) return;
      if (stopped) {
        await worker.store.deferInbox(entry.id, "worker stopping", worker.clock());
        return;
      }
      const leases = newLeases(worker);
      const done = processEntry(worker, entry, leases)
        .catch((error: unknown) =>
          worker.log.error({ delivery: entry.deliveryId }, `worker failed on an entry: ${String(error)}`),
        )
        .finally(() => {
          tasks.delete(entry.id);
          kick();
        });
      tasks.set(entry.id, { entry, leases, done });
    }
  };

  /** Claims work for free slots; a call while claiming makes the claimer look once more. */
  const kick = (): void => {
    if (stopped) return;
    if (filling) {
      refill = true;
      return;
    }
    filling = fillSlots()
      .catch((error: unknown) => worker.log.error({}, `could not claim inbox entries: ${String(error)}`))
      .finally(() => {
        filling = null;
        if (refill) {
          refill = false;
          kick();
        }
      });
  };

  const tick = () => {
    if (stopped) return;
    if (!recovery && Date.now() - lastRetention > RETENTION_INTERVAL_MS) {
      lastRetention = Date.now();
      recovery = pruneRetained(worker)
        .catch((error: unknown) => worker.log.error({}, `retention failed: ${String(error)}`))
        .finally(() => {
          recovery = null;
        });
      return;
    }
    if (!recovery && Date.now() - lastRecovery > recoveryIntervalMs) {
      lastRecovery = Date.now();
      recovery = recoverThreads(worker, () => stopped)
        .catch((error: unknown) => worker.log.error({}, `recovery sweep failed: ${String(error)}`))
        .finally(() => {
          recovery = null;
        });
    }
    kick();
  };
  const timer = setInterval(tick, worker.pollMs);
  tick();

  return {
    async stop(graceMs = 10_000) {
      stopped = true;
      clearInterval(timer);
      const running = Promise.all([filling, recovery, ...[...tasks.values()].map((t) => t.done)]);
      await Promise.race([running, sleep(graceMs)]);
      // Work still running past the grace period is cut off by the exit that follows: its leases
      // are handed back with a short margin, and the next owner looks for any write it recorded as
      // intended before writing again.
      const until = new Date(worker.clock().getTime() + HAND_BACK_SAFETY_MS);
      for (const { entry, leases } of tasks.values()) {
        worker.log.warn(
          { delivery: entry.deliveryId, event: entry.kind },
          "stopping before this entry was handled; another worker takes it over",
        );
        await Promise.all([
          leases.handBack(HAND_BACK_SAFETY_MS),
          worker.store.renewInboxLease(entry.id, worker.workerId, until),
        ]).catch((error: unknown) => worker.log.warn({}, `could not hand leases back: ${String(error)}`));
      }
    },
    async drain() {
      await Promise.all([filling, ...[...tasks.values()].map((t) => t.done)]);
      while (await processNextEntry(worker)) {
        // handle everything due
      }
    },
  };
}
