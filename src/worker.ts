import { randomUUID } from "node:crypto";
import { z } from "zod";
import { advanceThread, finishDeploy, type LoopDeps } from "./agent/runner.js";
import {
  DeploymentStatusCreated,
  PullRequestClosed,
  WorkflowRunCompleted,
  deploymentIdInRunTitle,
  finalOutcome,
} from "./github/webhooks.js";
import { ApiControl, ApiLaunch, controlFromApi, launchFromApi } from "./pipeline/api-inbox.js";
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
import type { DeploymentRecord, InboxEntry } from "./store/store.js";

/**
 * The worker: takes verified requests from the durable inbox, one at a time, and hands each to
 * the domain. A failure is retried with backoff (the entry stays in the inbox, leased); a payload
 * that can never be handled is set aside as dead, with the reason, and logged.
 */

export interface WorkerDeps extends LoopDeps {
  /** The GitHub App's id: deployment statuses written by the app itself are ignored. */
  appId: number | null;
  pollMs: number;
  leaseMs?: number;
  maxAttempts?: number;
  workerId?: string;
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 8;
const RECOVERY_INTERVAL_MS = 60_000;

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
      if (!record) return `skipped: run ${run.id} is not a deploybot deploy`;
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
    case "slack.approve": {
      const click = parsePayload(ApprovalClick, entry);
      return decideApproval(deps, {
        approvalId: click.approval_id,
        user: click.user,
        channel: click.channel,
        decision: "approve",
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

/** Claims and handles one due inbox entry; returns false when there was none. */
export async function processNextEntry(deps: WorkerDeps): Promise<boolean> {
  const workerId = deps.workerId ?? "worker";
  const entry = await deps.store.claimInbox(workerId, deps.clock(), deps.leaseMs ?? DEFAULT_LEASE_MS);
  if (!entry) return false;
  const fields = { delivery: entry.deliveryId, event: entry.kind, attempt: entry.attempts };
  // Keep the lease while the work runs (a model call can be slow); a crash stops renewing it, and
  // another worker takes the entry over once it lapses.
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const heartbeat = setInterval(
    () => {
      void deps.store
        .renewInboxLease(entry.id, workerId, new Date(deps.clock().getTime() + leaseMs))
        .catch((error: unknown) =>
          deps.log.warn(fields, `could not renew the inbox lease: ${String(error)}`),
        );
    },
    Math.max(1_000, leaseMs / 3),
  );
  try {
    const note = await handleEntry(deps, entry);
    await deps.store.finishInbox(entry.id, "done", note, deps.clock());
    deps.log.debug(fields, note);
  } catch (error) {
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
  } finally {
    clearInterval(heartbeat);
  }
  return true;
}

/**
 * Moves on threads that a crash or an outage left mid-step, and lets time act on waiting ones
 * (approval reminders and expiry). Waiting threads with nothing due cost one read each.
 */
export async function recoverThreads(deps: WorkerDeps): Promise<number> {
  const threads = await deps.store.listThreads({
    status: [
      "running",
      "waiting_for_lock",
      "waiting_for_approval",
      "waiting_for_deploy",
      "waiting_for_human",
    ],
    limit: 200,
  });
  for (const thread of threads) {
    try {
      await advanceThread(deps, thread.id);
    } catch (error) {
      deps.log.warn({ thread: thread.id }, `could not resume thread yet: ${String(error)}`);
    }
  }
  return threads.length;
}

export interface RunningWorker {
  stop(): Promise<void>;
  /** Handles every due entry now; for tests and for a graceful shutdown. */
  drain(): Promise<void>;
}

export function startWorker(deps: WorkerDeps): RunningWorker {
  const worker = { ...deps, workerId: deps.workerId ?? `worker-${randomUUID().slice(0, 8)}` };
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let lastRecovery = 0;

  const tick = async () => {
    if (Date.now() - lastRecovery > RECOVERY_INTERVAL_MS) {
      lastRecovery = Date.now();
      await recoverThreads(worker);
    }
    while (!stopped && (await processNextEntry(worker))) {
      // keep going while there is work
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) => worker.log.error({}, `worker loop failed: ${String(error)}`))
        .finally(schedule);
    }, worker.pollMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    async drain() {
      await running;
      while (await processNextEntry(worker)) {
        // handle everything due
      }
    },
  };
}
