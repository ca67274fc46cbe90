import { ThreadLeases } from "../agent/ownership.js";
import type { InboxEntry } from "../store/store.js";
import { DEFAULT_LEASE_MS, type WorkerDeps } from "./deps.js";

/** Runs `work` holding (and renewing) the inbox entry's lease and the leases of the threads it owns. */
export async function withLeases<T>(
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
export const newLeases = (deps: WorkerDeps) =>
  new ThreadLeases(deps, `${deps.workerId ?? "worker"}#${++taskCounter}`, deps.leaseMs ?? DEFAULT_LEASE_MS);
