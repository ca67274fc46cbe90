import type { NewEvent, Thread, ThreadEvent, ThreadStatus } from "../thread/events.js";

/**
 * Durable state behind one async interface, written once in SQL for SQLite (embedded default) and
 * PostgreSQL (several replicas): every write that two workers could race on is conditional.
 */

export type InboxSource = "github" | "slack" | "api" | "internal";

export interface InboxEntryInput {
  /** Unique per delivery: `X-GitHub-Delivery`, Slack's event id, an API request id. */
  deliveryId: string;
  source: InboxSource;
  /** The event name, e.g. `pull_request.closed`, `deployment_status.created`. */
  kind: string;
  payload: unknown;
  /**
   * What the entry's work is about, usually the repository (`owner/name`): the worker keeps one
   * partition from taking every slot, so one slow repository never stalls the others.
   */
  partition?: string | null;
}

export interface InboxEntry extends InboxEntryInput {
  id: number;
  attempts: number;
  receivedAt: string;
}

export interface ThreadSummary {
  id: string;
  repo: string;
  installationId: number;
  title: string;
  status: ThreadStatus;
  waitingOn: string | null;
  createdAt: string;
  updatedAt: string;
  lastSeq: number;
}

export interface NewThread {
  id: string;
  repo: string;
  installationId: number;
  title: string;
}

export interface LockHolder {
  threadId: string;
  /** seq of the thread's `deploy_authorized` event. */
  stepSeq: number;
}

export interface Lock extends LockHolder {
  key: string;
  acquiredAt: string;
}

/** A deploy freeze a human set on a repository's environment, or on one component in it. */
export interface ManualLock {
  repo: string;
  environment: string;
  /** null: the whole environment. */
  component: string | null;
  reason: string;
  by: string;
  at: string;
}

export interface DeploymentRecord {
  deploymentId: number;
  repo: string;
  component: string;
  environment: string;
  sha: string;
  threadId: string;
  stepSeq: number;
  runId: number | null;
  state: "pending" | "success" | "failure";
  createdAt: string;
  finishedAt: string | null;
}

export class AppendConflictError extends Error {
  readonly status = 409;
  constructor(
    readonly threadId: string,
    readonly expectedSeq: number,
    readonly actualSeq: number,
  ) {
    super(`thread ${threadId} moved on: expected last seq ${expectedSeq}, found ${actualSeq}`);
    this.name = "AppendConflictError";
  }
}

export interface Store {
  /** Creates tables if needed. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Inbox: verified requests, stored before they are answered.
  /** Returns false when the delivery id was seen before (a redelivery): nothing is stored. */
  enqueue(entry: InboxEntryInput, now: Date): Promise<boolean>;
  /**
   * Claims the oldest entry that is due and not leased (or whose lease expired), leasing it to
   * `workerId` until `now + leaseMs`, and increments its attempts.
   */
  claimInbox(
    workerId: string,
    now: Date,
    leaseMs: number,
    options?: { skipPartitions?: readonly string[] },
  ): Promise<InboxEntry | null>;
  /** Marks a claimed entry handled (`done`) or given up on (`dead`, with the error). */
  finishInbox(id: number, outcome: "done" | "dead", note: string | null, now: Date): Promise<void>;
  /** Extends the lease of an entry this worker still holds; false when it lost the lease. */
  renewInboxLease(id: number, workerId: string, leaseUntil: Date): Promise<boolean>;
  /** Releases a claimed entry to be retried at `retryAt`, recording the error. */
  retryInbox(id: number, error: string, retryAt: Date): Promise<void>;
  /** Gives a claimed entry back untried (its thread is busy elsewhere): due again at `retryAt`, the attempt not counted. */
  deferInbox(id: number, note: string, retryAt: Date): Promise<void>;
  inboxCounts(): Promise<Record<"queued" | "done" | "dead", number>>;
  /**
   * Retention: handled inbox entries finished before `deliveriesBefore` are deleted (their delivery
   * ids no longer deduplicate), and so are idempotency records older than it; finished threads (done,
   * failed, cancelled) last updated before `threadsBefore` are deleted with their events.
   */
  pruneRetained(cutoffs: { deliveriesBefore: Date; threadsBefore: Date }): Promise<{
    deliveries: number;
    threads: number;
  }>;

  // Threads and their append-only events.
  /** Creates the thread with its first events; returns false if a thread with that id exists. */
  createThread(thread: NewThread, events: NewEvent[], now: Date): Promise<boolean>;
  getThread(id: string): Promise<Thread | null>;
  getThreadSummary(id: string): Promise<ThreadSummary | null>;
  /**
   * Appends events after `expectedSeq` (the seq of the last event the caller saw) and updates the
   * thread's derived status. Throws AppendConflictError when another writer appended first.
   */
  appendEvents(
    threadId: string,
    expectedSeq: number,
    events: NewEvent[],
    now: Date,
    /**
     * The thread's events up to `expectedSeq`, when the caller has them: the status is then derived
     * from them and the new events, without reading the thread again (the seq check proves them current).
     */
    prior?: readonly ThreadEvent[],
  ): Promise<ThreadEvent[]>;
  /** Threads, most recently updated first; `offset` skips that many (for paging). */
  listThreads(filter: {
    status?: ThreadStatus[];
    repo?: string;
    limit?: number;
    offset?: number;
  }): Promise<ThreadSummary[]>;
  /** How many threads there are in each status (statuses with none are absent). */
  threadCounts(): Promise<Partial<Record<ThreadStatus, number>>>;
  /** Threads deferred on this lock key (status waiting_for_lock), oldest first. */
  threadsWaitingForLock(lockKey: string): Promise<ThreadSummary[]>;

  // Thread leases: one owner at a time advances a thread (also one not created yet).
  /**
   * Takes the thread's lease for `owner` until `now + leaseMs` when nobody holds it, its lease ran
   * out, or `owner` already holds it; false when another owner holds it.
   */
  acquireThreadLease(threadId: string, owner: string, now: Date, leaseMs: number): Promise<boolean>;
  /** Extends the lease if `owner` still holds it; false when it was lost. */
  renewThreadLease(threadId: string, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Gives the lease back, only if `owner` holds it. */
  releaseThreadLease(threadId: string, owner: string): Promise<void>;
  /**
   * Threads in these statuses that nobody holds (no lease, or one that ran out), by id, `limit` at a
   * time after the id `after` (a page cursor: a sweep reaches every thread, however many wait).
   */
  unownedThreads(
    statuses: readonly ThreadStatus[],
    now: Date,
    limit: number,
    after?: string,
  ): Promise<ThreadSummary[]>;

  // Locks: one running deploy per repository, component and environment.
  /** Takes the lock if free (or already held by this holder); otherwise returns the current holder. */
  acquireLock(
    key: string,
    holder: LockHolder,
    now: Date,
  ): Promise<{ acquired: true } | { acquired: false; holder: Lock }>;
  getLock(key: string): Promise<Lock | null>;
  /** Releases the lock only if `threadId` holds it. */
  releaseLock(key: string, threadId: string): Promise<void>;
  listLocks(): Promise<Lock[]>;

  // Manual locks: deploy freezes humans set, one per repository, environment and component (or none).
  /** Sets the lock unless one exists for the same repo, environment and component: that one is returned unchanged. */
  setManualLock(lock: {
    repo: string;
    environment: string;
    component: string | null;
    reason: string;
    by: string;
    at: Date;
  }): Promise<{ created: boolean; lock: ManualLock }>;
  /** Removes the lock and returns it; null when there was none. */
  removeManualLock(repo: string, environment: string, component: string | null): Promise<ManualLock | null>;
  /** Manual locks, of one repository or all, ordered by repo, environment, component (whole-environment first). */
  listManualLocks(repo?: string): Promise<ManualLock[]>;

  // References: small lookups from outside ids to threads (an approval id, a Slack message, a channel).
  /** Sets (or replaces) the value of a reference key. */
  setRef(key: string, value: string, now: Date): Promise<void>;
  getRef(key: string): Promise<string | null>;

  // Deployments deploybot created: correlation of results, and deploy history.
  recordDeployment(
    record: Omit<DeploymentRecord, "state" | "finishedAt" | "runId">,
    now: Date,
  ): Promise<void>;
  setDeploymentRun(deploymentId: number, runId: number): Promise<void>;
  /** Sets the final state once; returns false if it was already final. */
  finishDeployment(deploymentId: number, state: "success" | "failure", now: Date): Promise<boolean>;
  getDeployment(deploymentId: number): Promise<DeploymentRecord | null>;
  getDeploymentByRun(runId: number): Promise<DeploymentRecord | null>;
  findDeploymentForStep(threadId: string, stepSeq: number): Promise<DeploymentRecord | null>;
  /** Successful deployments for a repository, newest first. */
  successfulDeployments(
    repo: string,
    filter: { component?: string; environment?: string; limit?: number },
  ): Promise<DeploymentRecord[]>;
}
