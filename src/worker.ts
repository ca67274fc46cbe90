import { randomUUID } from "node:crypto";
import type { ThreadLeases } from "./agent/ownership.js";
import type { InboxEntry } from "./store/store.js";
import { DEFAULT_LEASE_MS, type WorkerDeps } from "./worker/deps.js";
import { processEntry, processNextEntry } from "./worker/entries.js";
import { newLeases } from "./worker/leases.js";
import { pruneRetained, recoverThreads } from "./worker/sweeps.js";

/**
 * The worker: takes verified requests from the durable inbox, several at once (never two of the same
 * thread: each takes the thread's lease first) and hands each to its handler (pipeline/handlers.ts).
 * A failure is retried with backoff (the entry stays in the inbox); an entry whose thread is busy
 * elsewhere waits untried; a payload that can never be handled is set aside as dead, with the reason.
 */

const DEFAULT_CONCURRENCY = 4;
const RECOVERY_INTERVAL_MS = 60_000;
const RETENTION_INTERVAL_MS = 60 * 60_000;

export interface RunningWorker {
  /** Stops claiming, lets running work finish within `graceMs`, then gives every lease back. */
  stop(graceMs?: number): Promise<void>;
  /** Handles every due entry now; for tests and for a graceful shutdown. */
  drain(): Promise<void>;
  /** Looks for new entries now instead of at the next poll (an entry was just queued in this process). */
  wake(): void;
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
    wake: kick,
    async drain() {
      await Promise.all([filling, ...[...tasks.values()].map((t) => t.done)]);
      while (await processNextEntry(worker)) {
        // handle everything due
      }
    },
  };
}
