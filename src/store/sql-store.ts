import type { NewEvent, ThreadEvent, ThreadStatus } from "../thread/events.js";
import type { Dialect } from "./dialect.js";
import { GroupCommit } from "./group-commit.js";
import { applyMigrations } from "./migrate.js";
import type { Schema } from "./migrations/schema.js";
import * as inbox from "./sql-inbox.js";
import * as locks from "./sql-locks.js";
import * as records from "./sql-records.js";
import * as threads from "./sql-threads.js";
import type { DeploymentRecord, InboxEntryInput, LockHolder, NewThread, Store } from "./store.js";

/**
 * The Store, written once in SQL over a dialect (SQLite or PostgreSQL). Each method is one function
 * of the sql-* modules; inbox inserts are group-committed.
 */
export class SqlStore implements Store {
  private readonly inserts: GroupCommit<inbox.Enqueued, boolean>;

  constructor(
    private readonly db: Dialect,
    private readonly schema: Schema,
  ) {
    this.inserts = new GroupCommit({ commit: (batch) => inbox.enqueueBatch(db, batch) });
  }

  migrate = () => applyMigrations(this.db, this.schema);

  async close(): Promise<void> {
    await this.inserts.drain();
    await this.db.close();
  }

  // Inbox
  enqueue = (entry: InboxEntryInput, now: Date) => this.inserts.submit({ entry, now });
  claimInbox = (
    workerId: string,
    now: Date,
    leaseMs: number,
    options?: { skipPartitions?: readonly string[] },
  ) => inbox.claimInbox(this.db, workerId, now, leaseMs, options);
  finishInbox = (id: number, outcome: "done" | "dead", note: string | null, now: Date) =>
    inbox.finishInbox(this.db, id, outcome, note, now);
  renewInboxLease = (id: number, workerId: string, leaseUntil: Date) =>
    inbox.renewInboxLease(this.db, id, workerId, leaseUntil);
  retryInbox = (id: number, error: string, retryAt: Date) => inbox.retryInbox(this.db, id, error, retryAt);
  deferInbox = (id: number, note: string, retryAt: Date) => inbox.deferInbox(this.db, id, note, retryAt);
  inboxCounts = () => inbox.inboxCounts(this.db);
  pruneRetained = (cutoffs: { deliveriesBefore: Date; threadsBefore: Date }) =>
    inbox.pruneRetained(this.db, cutoffs);

  // Threads
  createThread = (thread: NewThread, events: NewEvent[], now: Date) =>
    threads.createThread(this.db, thread, events, now);
  getThread = (id: string) => threads.getThread(this.db, id);
  getThreadSummary = (id: string) => threads.getThreadSummary(this.db, id);
  appendEvents = (
    threadId: string,
    expectedSeq: number,
    events: NewEvent[],
    now: Date,
    prior?: readonly ThreadEvent[],
  ) => threads.appendEvents(this.db, threadId, expectedSeq, events, now, prior);
  listThreads = (filter: { status?: ThreadStatus[]; repo?: string; limit?: number; offset?: number }) =>
    threads.listThreads(this.db, filter);
  threadCounts = () => threads.threadCounts(this.db);
  threadsWaitingForLock = (lockKey: string) => threads.threadsWaitingForLock(this.db, lockKey);
  unownedThreads = (statuses: readonly ThreadStatus[], now: Date, limit: number, after?: string) =>
    threads.unownedThreads(this.db, statuses, now, limit, after);

  // Thread leases and locks
  acquireThreadLease = (threadId: string, owner: string, now: Date, leaseMs: number) =>
    locks.acquireThreadLease(this.db, threadId, owner, now, leaseMs);
  renewThreadLease = (threadId: string, owner: string, leaseUntil: Date) =>
    locks.renewThreadLease(this.db, threadId, owner, leaseUntil);
  releaseThreadLease = (threadId: string, owner: string) =>
    locks.releaseThreadLease(this.db, threadId, owner);
  acquireLock = (key: string, holder: LockHolder, now: Date) => locks.acquireLock(this.db, key, holder, now);
  getLock = (key: string) => locks.getLock(this.db, key);
  releaseLock = (key: string, threadId: string) => locks.releaseLock(this.db, key, threadId);
  listLocks = () => locks.listLocks(this.db);
  setManualLock = (lock: Parameters<Store["setManualLock"]>[0]) => locks.setManualLock(this.db, lock);
  removeManualLock = (repo: string, environment: string, component: string | null) =>
    locks.removeManualLock(this.db, repo, environment, component);
  listManualLocks = (repo?: string) => locks.listManualLocks(this.db, repo);

  // References and deployments
  setRef = (key: string, value: string, now: Date) => records.setRef(this.db, key, value, now);
  getRef = (key: string) => records.getRef(this.db, key);
  recordDeployment = (record: Omit<DeploymentRecord, "state" | "finishedAt" | "runId">, now: Date) =>
    records.recordDeployment(this.db, record, now);
  setDeploymentRun = (deploymentId: number, runId: number) =>
    records.setDeploymentRun(this.db, deploymentId, runId);
  finishDeployment = (deploymentId: number, state: "success" | "failure", now: Date) =>
    records.finishDeployment(this.db, deploymentId, state, now);
  getDeployment = (deploymentId: number) => records.getDeployment(this.db, deploymentId);
  getDeploymentByRun = (runId: number) => records.getDeploymentByRun(this.db, runId);
  findDeploymentForStep = (threadId: string, stepSeq: number) =>
    records.findDeploymentForStep(this.db, threadId, stepSeq);
  successfulDeployments = (
    repo: string,
    filter: { component?: string; environment?: string; limit?: number },
  ) => records.successfulDeployments(this.db, repo, filter);
}
