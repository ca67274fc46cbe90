import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  parseEvent,
  type NewEvent,
  type Thread,
  type ThreadEvent,
  type ThreadStatus,
} from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import {
  AppendConflictError,
  type DeploymentRecord,
  type InboxEntry,
  type InboxEntryInput,
  type InboxSource,
  type Lock,
  type LockHolder,
  type NewThread,
  type Store,
  type ThreadSummary,
} from "./store.js";
import { stamp, truncate, usablePrior } from "./rows.js";

/** Numbered migrations, applied once each, in order. */
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        installation_id INTEGER NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        waiting_on TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX threads_status_waiting ON threads (status, waiting_on, created_at);
      CREATE INDEX threads_updated ON threads (updated_at);
      CREATE INDEX threads_repo_updated ON threads (repo, updated_at);

      CREATE TABLE events (
        thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        leased_by TEXT,
        lease_until TEXT,
        received_at TEXT NOT NULL,
        finished_at TEXT,
        note TEXT,
        last_error TEXT
      );
      CREATE INDEX inbox_queued ON inbox (status, due_at, id);

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
      );

      CREATE TABLE deployments (
        deployment_id INTEGER PRIMARY KEY,
        repo TEXT NOT NULL,
        component TEXT NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        run_id INTEGER,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'success', 'failure')),
        created_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE INDEX deployments_run ON deployments (run_id);
      CREATE INDEX deployments_step ON deployments (thread_id, step_seq);
      CREATE INDEX deployments_history ON deployments (repo, state, finished_at);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE refs (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE thread_leases (
        thread_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until TEXT NOT NULL
      );
      ALTER TABLE inbox ADD COLUMN partition_key TEXT;
    `,
  },
  {
    version: 4,
    sql: `
      CREATE INDEX inbox_finished ON inbox (finished_at);
    `,
  },
];

interface ThreadRow {
  id: string;
  repo: string;
  installation_id: number;
  title: string;
  status: string;
  waiting_on: string | null;
  created_at: string;
  updated_at: string;
  last_seq: number;
}

interface EventRow {
  seq: number;
  type: string;
  at: string;
  data: string;
}

interface InboxRow {
  id: number;
  delivery_id: string;
  source: string;
  kind: string;
  payload: string;
  attempts: number;
  received_at: string;
  partition_key: string | null;
}

interface LockRow {
  key: string;
  thread_id: string;
  step_seq: number;
  acquired_at: string;
}

interface DeploymentRow {
  deployment_id: number;
  repo: string;
  component: string;
  environment: string;
  sha: string;
  thread_id: string;
  step_seq: number;
  run_id: number | null;
  state: string;
  created_at: string;
  finished_at: string | null;
}

function toSummary(row: ThreadRow): ThreadSummary {
  return {
    id: row.id,
    repo: row.repo,
    installationId: row.installation_id,
    title: row.title,
    status: row.status as ThreadStatus,
    waitingOn: row.waiting_on,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeq: row.last_seq,
  };
}

function toLock(row: LockRow): Lock {
  return { key: row.key, threadId: row.thread_id, stepSeq: row.step_seq, acquiredAt: row.acquired_at };
}

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    deploymentId: row.deployment_id,
    repo: row.repo,
    component: row.component,
    environment: row.environment,
    sha: row.sha,
    threadId: row.thread_id,
    stepSeq: row.step_seq,
    runId: row.run_id,
    state: row.state as DeploymentRecord["state"],
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

function toEvent(row: EventRow): ThreadEvent {
  return parseEvent({ seq: row.seq, at: row.at, type: row.type, data: JSON.parse(row.data) as unknown });
}

/** Stamps validated new events with their seq and time, as they will be stored. */

/**
 * The embedded store: one SQLite file (WAL), synchronous underneath the async interface. Every
 * read-then-write runs in an IMMEDIATE transaction, so concurrent processes on the same file
 * serialize on the write lock instead of failing on upgrade.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    const inMemory = path === ":memory:" || path === "";
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<void> {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    )`);
    this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
          v: number | null;
        };
        const current = row.v ?? 0;
        for (const m of MIGRATIONS) {
          if (m.version <= current) continue;
          this.db.exec(m.sql);
          this.db.prepare("INSERT INTO schema_migrations (version) VALUES (?)").run(m.version);
        }
      })
      .immediate();
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  // Inbox

  async enqueue(entry: InboxEntryInput, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const result = this.stmt(
      `INSERT INTO inbox (delivery_id, source, kind, payload, status, attempts, due_at, received_at, partition_key)
       VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)
       ON CONFLICT (delivery_id) DO NOTHING`,
    ).run(
      entry.deliveryId,
      entry.source,
      entry.kind,
      JSON.stringify(entry.payload ?? null),
      at,
      at,
      entry.partition ?? null,
    );
    return result.changes === 1;
  }

  async claimInbox(
    workerId: string,
    now: Date,
    leaseMs: number,
    options: { skipPartitions?: readonly string[] } = {},
  ): Promise<InboxEntry | null> {
    const at = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const skip = options.skipPartitions ?? [];
    return this.db
      .transaction((): InboxEntry | null => {
        const row = this.db
          .prepare(
            `SELECT id FROM inbox
             WHERE status = 'queued' AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
             ${skip.length ? `AND (partition_key IS NULL OR partition_key NOT IN (${skip.map(() => "?").join(", ")}))` : ""}
             ORDER BY id LIMIT 1`,
          )
          .get(at, at, ...skip) as { id: number } | undefined;
        if (!row) return null;
        const claimed = this.stmt(
          `UPDATE inbox SET leased_by = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?
           RETURNING id, delivery_id, source, kind, payload, attempts, received_at, partition_key`,
        ).get(workerId, until, row.id) as InboxRow;
        return {
          id: claimed.id,
          deliveryId: claimed.delivery_id,
          source: claimed.source as InboxSource,
          kind: claimed.kind,
          payload: JSON.parse(claimed.payload) as unknown,
          partition: claimed.partition_key,
          attempts: claimed.attempts,
          receivedAt: claimed.received_at,
        };
      })
      .immediate();
  }

  async finishInbox(id: number, outcome: "done" | "dead", note: string | null, now: Date): Promise<void> {
    // A handled entry keeps its delivery id (deduplication), not its payload; a dead one keeps both.
    this.stmt(
      `UPDATE inbox SET status = ?, note = ?, leased_by = NULL, lease_until = NULL, finished_at = ?,
         payload = CASE WHEN ? = 'done' THEN 'null' ELSE payload END
       WHERE id = ?`,
    ).run(outcome, truncate(note), now.toISOString(), outcome, id);
  }

  async pruneRetained(cutoffs: { deliveriesBefore: Date; threadsBefore: Date }) {
    return this.db
      .transaction(() => {
        const deliveries = this.stmt(
          "DELETE FROM inbox WHERE status IN ('done', 'dead') AND finished_at < ?",
        ).run(cutoffs.deliveriesBefore.toISOString()).changes;
        this.stmt("DELETE FROM refs WHERE key LIKE 'idem:%' AND updated_at < ?").run(
          cutoffs.deliveriesBefore.toISOString(),
        );
        const threads = this.stmt(
          "DELETE FROM threads WHERE status IN ('done', 'failed', 'cancelled') AND updated_at < ?",
        ).run(cutoffs.threadsBefore.toISOString()).changes;
        return { deliveries, threads };
      })
      .immediate();
  }

  async renewInboxLease(id: number, workerId: string, leaseUntil: Date): Promise<boolean> {
    const result = this.stmt(
      "UPDATE inbox SET lease_until = ? WHERE id = ? AND leased_by = ? AND status = 'queued'",
    ).run(leaseUntil.toISOString(), id, workerId);
    return result.changes === 1;
  }

  async retryInbox(id: number, error: string, retryAt: Date): Promise<void> {
    this.stmt(
      `UPDATE inbox SET due_at = ?, last_error = ?, leased_by = NULL, lease_until = NULL
       WHERE id = ? AND status = 'queued'`,
    ).run(retryAt.toISOString(), truncate(error), id);
  }

  async deferInbox(id: number, note: string, retryAt: Date): Promise<void> {
    this.stmt(
      `UPDATE inbox SET due_at = ?, note = ?, leased_by = NULL, lease_until = NULL,
         attempts = MAX(attempts - 1, 0)
       WHERE id = ? AND status = 'queued'`,
    ).run(retryAt.toISOString(), truncate(note), id);
  }

  async inboxCounts(): Promise<Record<"queued" | "done" | "dead", number>> {
    const rows = this.stmt("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status").all() as {
      status: string;
      n: number;
    }[];
    const counts = { queued: 0, done: 0, dead: 0 };
    for (const r of rows) {
      if (r.status === "queued" || r.status === "done" || r.status === "dead") counts[r.status] = r.n;
    }
    return counts;
  }

  // Threads

  async createThread(thread: NewThread, events: NewEvent[], now: Date): Promise<boolean> {
    const at = now.toISOString();
    const stored = stamp(events, 1, at);
    const { status, waitingOn } = deriveState(stored);
    return this.db
      .transaction((): boolean => {
        const inserted = this.stmt(
          `INSERT INTO threads (id, repo, installation_id, title, status, waiting_on, created_at, updated_at, last_seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        ).run(
          thread.id,
          thread.repo,
          thread.installationId,
          thread.title,
          status,
          waitingOn,
          at,
          at,
          stored.length,
        );
        if (inserted.changes !== 1) return false;
        this.insertEvents(thread.id, stored);
        return true;
      })
      .immediate();
  }

  private insertEvents(threadId: string, events: ThreadEvent[]): void {
    const insert = this.stmt("INSERT INTO events (thread_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)");
    for (const e of events) insert.run(threadId, e.seq, e.type, e.at, JSON.stringify(e.data));
  }

  private readEvents(threadId: string): ThreadEvent[] {
    const rows = this.stmt("SELECT seq, type, at, data FROM events WHERE thread_id = ? ORDER BY seq").all(
      threadId,
    ) as EventRow[];
    return rows.map(toEvent);
  }

  async getThread(id: string): Promise<Thread | null> {
    return this.db.transaction((): Thread | null => {
      const row = this.stmt("SELECT * FROM threads WHERE id = ?").get(id) as ThreadRow | undefined;
      if (!row) return null;
      return {
        id: row.id,
        repo: row.repo,
        installationId: row.installation_id,
        createdAt: row.created_at,
        events: this.readEvents(id),
      };
    })();
  }

  async threadCounts(): Promise<Partial<Record<ThreadStatus, number>>> {
    const rows = this.stmt("SELECT status, COUNT(*) AS n FROM threads GROUP BY status").all() as {
      status: ThreadStatus;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async getThreadSummary(id: string): Promise<ThreadSummary | null> {
    const row = this.stmt("SELECT * FROM threads WHERE id = ?").get(id) as ThreadRow | undefined;
    return row ? toSummary(row) : null;
  }

  async appendEvents(
    threadId: string,
    expectedSeq: number,
    events: NewEvent[],
    now: Date,
    prior?: readonly ThreadEvent[],
  ): Promise<ThreadEvent[]> {
    if (events.length === 0) return [];
    const at = now.toISOString();
    const known = usablePrior(prior, expectedSeq);
    const added = stamp(events, expectedSeq + 1, at);
    return this.db
      .transaction((): ThreadEvent[] => {
        const row = this.stmt("SELECT last_seq FROM threads WHERE id = ?").get(threadId) as
          { last_seq: number } | undefined;
        if (!row) throw new Error(`appendEvents: unknown thread ${threadId}`);
        if (row.last_seq !== expectedSeq) throw new AppendConflictError(threadId, expectedSeq, row.last_seq);
        this.insertEvents(threadId, added);
        const { status, waitingOn } = deriveState(known ? [...known, ...added] : this.readEvents(threadId));
        this.stmt(
          "UPDATE threads SET status = ?, waiting_on = ?, last_seq = ?, updated_at = ? WHERE id = ?",
        ).run(status, waitingOn, expectedSeq + added.length, at, threadId);
        return added;
      })
      .immediate();
  }

  async listThreads(filter: {
    status?: ThreadStatus[];
    repo?: string;
    limit?: number;
    offset?: number;
  }): Promise<ThreadSummary[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => "?").join(", ")})`);
      params.push(...filter.status);
    }
    if (filter.repo !== undefined) {
      where.push("repo = ?");
      params.push(filter.repo);
    }
    params.push(filter.limit ?? 50, filter.offset ?? 0);
    const sql = `SELECT * FROM threads ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT ? OFFSET ?`;
    return (this.stmt(sql).all(...params) as ThreadRow[]).map(toSummary);
  }

  async threadsWaitingFor(waitingOn: string): Promise<ThreadSummary[]> {
    const rows = this.stmt(
      `SELECT * FROM threads WHERE status = 'waiting_for_lock' AND waiting_on = ?
       ORDER BY created_at, id`,
    ).all(waitingOn) as ThreadRow[];
    return rows.map(toSummary);
  }

  // Thread leases

  async acquireThreadLease(threadId: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const row = this.stmt(
      `INSERT INTO thread_leases (thread_id, owner, lease_until) VALUES (?, ?, ?)
       ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE thread_leases.owner = excluded.owner OR thread_leases.lease_until <= ?
       RETURNING thread_id`,
    ).get(threadId, owner, new Date(now.getTime() + leaseMs).toISOString(), now.toISOString());
    return row !== undefined;
  }

  async renewThreadLease(threadId: string, owner: string, leaseUntil: Date): Promise<boolean> {
    const result = this.stmt(
      "UPDATE thread_leases SET lease_until = ? WHERE thread_id = ? AND owner = ?",
    ).run(leaseUntil.toISOString(), threadId, owner);
    return result.changes === 1;
  }

  async releaseThreadLease(threadId: string, owner: string): Promise<void> {
    this.stmt("DELETE FROM thread_leases WHERE thread_id = ? AND owner = ?").run(threadId, owner);
  }

  async unownedThreads(
    statuses: readonly ThreadStatus[],
    now: Date,
    limit: number,
    after = "",
  ): Promise<ThreadSummary[]> {
    if (statuses.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT t.* FROM threads t LEFT JOIN thread_leases l ON l.thread_id = t.id
         WHERE t.status IN (${statuses.map(() => "?").join(", ")})
           AND (l.thread_id IS NULL OR l.lease_until <= ?) AND t.id > ?
         ORDER BY t.id LIMIT ?`,
      )
      .all(...statuses, now.toISOString(), after, limit) as ThreadRow[];
    return rows.map(toSummary);
  }

  // Locks

  async acquireLock(
    key: string,
    holder: LockHolder,
    now: Date,
  ): Promise<{ acquired: true } | { acquired: false; holder: Lock }> {
    return this.db
      .transaction((): { acquired: true } | { acquired: false; holder: Lock } => {
        const row = this.stmt("SELECT * FROM locks WHERE key = ?").get(key) as LockRow | undefined;
        if (!row) {
          this.stmt("INSERT INTO locks (key, thread_id, step_seq, acquired_at) VALUES (?, ?, ?, ?)").run(
            key,
            holder.threadId,
            holder.stepSeq,
            now.toISOString(),
          );
          return { acquired: true };
        }
        if (row.thread_id === holder.threadId) {
          this.stmt("UPDATE locks SET step_seq = ? WHERE key = ?").run(holder.stepSeq, key);
          return { acquired: true };
        }
        return { acquired: false, holder: toLock(row) };
      })
      .immediate();
  }

  async getLock(key: string): Promise<Lock | null> {
    const row = this.stmt("SELECT * FROM locks WHERE key = ?").get(key) as LockRow | undefined;
    return row ? toLock(row) : null;
  }

  async releaseLock(key: string, threadId: string): Promise<void> {
    this.stmt("DELETE FROM locks WHERE key = ? AND thread_id = ?").run(key, threadId);
  }

  async listLocks(): Promise<Lock[]> {
    return (this.stmt("SELECT * FROM locks ORDER BY acquired_at, key").all() as LockRow[]).map(toLock);
  }

  // References

  async setRef(key: string, value: string, now: Date): Promise<void> {
    this.stmt(
      "INSERT INTO refs (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    ).run(key, value, now.toISOString());
  }

  async getRef(key: string): Promise<string | null> {
    const row = this.stmt("SELECT value FROM refs WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  // Deployments

  async recordDeployment(
    record: Omit<DeploymentRecord, "state" | "finishedAt" | "runId">,
    now: Date,
  ): Promise<void> {
    this.stmt(
      `INSERT INTO deployments
         (deployment_id, repo, component, environment, sha, thread_id, step_seq, run_id, state, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'pending', ?, NULL)
       ON CONFLICT (deployment_id) DO NOTHING`,
    ).run(
      record.deploymentId,
      record.repo,
      record.component,
      record.environment,
      record.sha,
      record.threadId,
      record.stepSeq,
      now.toISOString(),
    );
  }

  async setDeploymentRun(deploymentId: number, runId: number): Promise<void> {
    this.stmt("UPDATE deployments SET run_id = ? WHERE deployment_id = ?").run(runId, deploymentId);
  }

  async finishDeployment(deploymentId: number, state: "success" | "failure", now: Date): Promise<boolean> {
    const result = this.stmt(
      "UPDATE deployments SET state = ?, finished_at = ? WHERE deployment_id = ? AND state = 'pending'",
    ).run(state, now.toISOString(), deploymentId);
    return result.changes === 1;
  }

  async getDeployment(deploymentId: number): Promise<DeploymentRecord | null> {
    const row = this.stmt("SELECT * FROM deployments WHERE deployment_id = ?").get(deploymentId) as
      DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  async getDeploymentByRun(runId: number): Promise<DeploymentRecord | null> {
    const row = this.stmt(
      "SELECT * FROM deployments WHERE run_id = ? ORDER BY deployment_id DESC LIMIT 1",
    ).get(runId) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  async findDeploymentForStep(threadId: string, stepSeq: number): Promise<DeploymentRecord | null> {
    const row = this.stmt(
      "SELECT * FROM deployments WHERE thread_id = ? AND step_seq = ? ORDER BY deployment_id DESC LIMIT 1",
    ).get(threadId, stepSeq) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  async successfulDeployments(
    repo: string,
    filter: { component?: string; environment?: string; limit?: number },
  ): Promise<DeploymentRecord[]> {
    const where = ["repo = ?", "state = 'success'"];
    const params: (string | number)[] = [repo];
    if (filter.component !== undefined) {
      where.push("component = ?");
      params.push(filter.component);
    }
    if (filter.environment !== undefined) {
      where.push("environment = ?");
      params.push(filter.environment);
    }
    params.push(filter.limit ?? 20);
    const sql = `SELECT * FROM deployments WHERE ${where.join(" AND ")}
      ORDER BY finished_at DESC, deployment_id DESC LIMIT ?`;
    return (this.stmt(sql).all(...params) as DeploymentRow[]).map(toDeployment);
  }
}
