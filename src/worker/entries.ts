import { ThreadBusyError, type ThreadLeases } from "../agent/ownership.js";
import { ENTRY_HANDLERS } from "../pipeline/handlers.js";
import type { InboxEntry } from "../store/store.js";
import { DEFAULT_LEASE_MS, type WorkerDeps } from "./deps.js";
import { newLeases, withLeases } from "./leases.js";
import { clip } from "../thread/text.js";

/**
 * One inbox entry handled to its end: its payload parsed with its handler's schema and handed to
 * the handler; done, retried with backoff, deferred while its thread is busy elsewhere, or set
 * aside as dead with the reason.
 */

const DEFAULT_MAX_ATTEMPTS = 8;
/** An entry whose thread another worker holds is looked at again after this long. */
const BUSY_RETRY_MS = 1_000;

class PermanentError extends Error {}

/** Handles one inbox entry; returns a short note of what happened. */
export async function handleEntry(deps: WorkerDeps, entry: InboxEntry): Promise<string> {
  const handler = ENTRY_HANDLERS[entry.kind];
  if (!handler) return `skipped: deploybot does not handle ${entry.kind}`;
  const result = handler.schema.safeParse(entry.payload);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new PermanentError(`${entry.kind} payload is missing what deploybot needs: ${problems.join("; ")}`);
  }
  return handler.handle(deps, result.data, entry);
}

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
      await deps.store.finishInbox(entry.id, "dead", clip(message, 1_000), deps.clock());
      deps.log.error(fields, `gave up on ${entry.kind} delivery ${entry.deliveryId}: ${message}`);
    } else {
      const delayMs = Math.min(5_000 * 2 ** (entry.attempts - 1), 10 * 60_000);
      await deps.store.retryInbox(entry.id, clip(message, 1_000), new Date(deps.clock().getTime() + delayMs));
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
