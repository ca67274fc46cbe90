import type { Log } from "../log.js";
import type { InboxEntry, Store } from "../store/store.js";
import { threadIdForMerge } from "./ingest.js";

/**
 * Which thread an inbox entry concerns, when its payload says so without a lookup: REST, Slack and
 * internal entries name it; a merged pull request's thread id is derived from the merge; a
 * deployment status carries it in the deployment's payload. Null otherwise.
 */
export function threadIdOfEntry(entry: Pick<InboxEntry, "kind" | "payload">): string | null {
  const payload = (entry.payload ?? {}) as Record<string, unknown>;
  if (typeof payload.thread_id === "string") return payload.thread_id;
  if (entry.kind === "pull_request.closed") {
    const pr = payload.pull_request as { number?: unknown; merge_commit_sha?: unknown } | undefined;
    const repo = (payload.repository as { full_name?: unknown } | undefined)?.full_name;
    if (typeof repo === "string" && typeof pr?.number === "number" && typeof pr.merge_commit_sha === "string")
      return threadIdForMerge(repo, pr.number, pr.merge_commit_sha);
  }
  if (entry.kind === "deployment_status.created") {
    let data = (payload.deployment as { payload?: unknown } | undefined)?.payload;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch {
        return null;
      }
    }
    const threadId = (data as { thread_id?: unknown } | null | undefined)?.thread_id;
    if (typeof threadId === "string") return threadId;
  }
  return null;
}

/** The thread of the deployment a workflow run or a deployment status is about, if deploybot made it. */
async function threadOfDeployment(
  entry: Pick<InboxEntry, "kind" | "payload">,
  deployments: Pick<Store, "getDeployment" | "getDeploymentByRun">,
): Promise<string | null> {
  const payload = (entry.payload ?? {}) as Record<string, { id?: unknown } | undefined>;
  if (entry.kind.startsWith("workflow_run.") && typeof payload.workflow_run?.id === "number")
    return (await deployments.getDeploymentByRun(payload.workflow_run.id))?.threadId ?? null;
  if (entry.kind.startsWith("deployment_status.") && typeof payload.deployment?.id === "number")
    return (await deployments.getDeployment(payload.deployment.id))?.threadId ?? null;
  return null;
}

/**
 * Remembers the thread of recently claimed inbox entries, so that a log line about a delivery
 * (`{ delivery }`) also names its thread (`{ thread }`).
 */
export class DeliveryThreads {
  readonly #threads = new Map<string, string>();
  constructor(private readonly capacity = 1_000) {}

  /**
   * Remembers the entry's thread: from its payload, or else, for a workflow run or a deployment
   * status, from the deployment deploybot recorded (when `deployments` is given).
   */
  async remember(
    entry: Pick<InboxEntry, "deliveryId" | "kind" | "payload">,
    deployments?: Pick<Store, "getDeployment" | "getDeploymentByRun">,
  ): Promise<void> {
    const threadId =
      threadIdOfEntry(entry) ?? (deployments ? await threadOfDeployment(entry, deployments) : null);
    if (!threadId) return;
    this.#threads.delete(entry.deliveryId);
    this.#threads.set(entry.deliveryId, threadId);
    if (this.#threads.size > this.capacity) this.#threads.delete(this.#threads.keys().next().value!);
  }

  threadOf(deliveryId: string): string | undefined {
    return this.#threads.get(deliveryId);
  }

  /** `log`, adding `thread` to the fields of every line about a delivery whose thread is known. */
  annotate(log: Log): Log {
    const withThread = (fields: object): object => {
      const { delivery, thread } = fields as { delivery?: unknown; thread?: unknown };
      if (thread !== undefined || typeof delivery !== "string") return fields;
      const threadId = this.threadOf(delivery);
      return threadId ? { ...fields, thread: threadId } : fields;
    };
    return {
      debug: (fields, message) => log.debug(withThread(fields), message),
      info: (fields, message) => log.info(withThread(fields), message),
      warn: (fields, message) => log.warn(withThread(fields), message),
      error: (fields, message) => log.error(withThread(fields), message),
    };
  }
}
