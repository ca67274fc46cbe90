import type { HandlerDeps } from "../pipeline/handlers.js";

export interface WorkerDeps extends HandlerDeps {
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

export const DEFAULT_LEASE_MS = 60_000;
