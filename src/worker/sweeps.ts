import { ThreadBusyError } from "../agent/ownership.js";
import { advanceThread } from "../agent/runner.js";
import { UNFINISHED_STATUSES } from "../thread/events.js";
import type { WorkerDeps } from "./deps.js";
import { newLeases, withLeases } from "./leases.js";

/** Paused threads too: a deploy that was running when the thread was paused still times out. */
const UNFINISHED = UNFINISHED_STATUSES;
const SWEEP_PAGE = 100;
const DAY_MS = 24 * 60 * 60_000;
/** Delivery ids are kept this long for deduplication: GitHub Enterprise Server redelivers for 7 days. */
const DELIVERY_RETENTION_MS = 8 * DAY_MS;
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
