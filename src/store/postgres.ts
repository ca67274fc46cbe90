import pg from "pg";
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

/** Numbered migrations, applied once each, in order. Same tables as the SQLite store. */
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        installation_id BIGINT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        waiting_on TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX threads_status_waiting ON threads (status, waiting_on, created_at);
      CREATE INDEX threads_updated ON threads (updated_at);
      CREATE INDEX threads_repo_updated ON threads (repo, updated_at);

      CREATE TABLE events (
        thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        data JSONB NOT NULL,
        PRIMARY KEY (thread_id, seq)
      );

      CREATE TABLE inbox (
        id BIGSERIAL PRIMARY KEY,
        delivery_id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload JSONB NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at TIMESTAMPTZ NOT NULL,
        leased_by TEXT,
        lease_until TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        note TEXT,
        last_error TEXT
      );
      CREATE INDEX inbox_queued ON inbox (id) WHERE status = 'queued';

      CREATE TABLE locks (
        key TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL
      );

      CREATE TABLE deployments (
        deployment_id BIGINT PRIMARY KEY,
        repo TEXT NOT NULL,
        component TEXT NOT NULL,
        environment TEXT NOT NULL,
        sha TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        step_seq INTEGER NOT NULL,
        run_id BIGINT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'success', 'failure')),
        created_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ
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
        updated_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE thread_leases (
        thread_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until TIMESTAMPTZ NOT NULL
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

/** Advisory lock key serializing migrations across replicas starting together. */
const MIGRATION_LOCK = 7_405_811_002;

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** Row shapes as node-postgres returns them: BIGINT as string, TIMESTAMPTZ as Date, JSONB parsed. */
interface ThreadRow {
  id: string;
  repo: string;
  installation_id: string;
  title: string;
  status: string;
  waiting_on: string | null;
  created_at: Date;
  updated_at: Date;
  last_seq: number;
}

interface EventRow {
  seq: number;
  type: string;
  at: Date;
  data: unknown;
}

interface InboxRow {
  id: string;
  delivery_id: string;
  source: string;
  kind: string;
  payload: unknown;
  attempts: number;
  received_at: Date;
  partition_key: string | null;
}

interface LockRow {
  key: string;
  thread_id: string;
  step_seq: number;
  acquired_at: Date;
}

interface DeploymentRow {
  deployment_id: string;
  repo: string;
  component: string;
  environment: string;
  sha: string;
  thread_id: string;
  step_seq: number;
  run_id: string | null;
  state: string;
  created_at: Date;
  finished_at: Date | null;
}

function toSummary(row: ThreadRow): ThreadSummary {
  return {
    id: row.id,
    repo: row.repo,
    installationId: Number(row.installation_id),
    title: row.title,
    status: row.status as ThreadStatus,
    waitingOn: row.waiting_on,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    lastSeq: row.last_seq,
  };
}

function toLock(row: LockRow): Lock {
  return { key: row.key, threadId: row.thread_id, stepSeq: row.step_seq, acquiredAt: iso(row.acquired_at) };
}

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    deploymentId: Number(row.deployment_id),
    repo: row.repo,
    component: row.component,
    environment: row.environment,
    sha: row.sha,
    threadId: row.thread_id,
    stepSeq: row.step_seq,
    runId: row.run_id === null ? null : Number(row.run_id),
    state: row.state as DeploymentRecord["state"],
    createdAt: iso(row.created_at),
    finishedAt: isoOrNull(row.finished_at),
  };
}

function toEvent(row: EventRow): ThreadEvent {
  return parseEvent({ seq: row.seq, at: iso(row.at), type: row.type, data: row.data });
}

/** Stamps validated new events with their seq and time, as they will be stored. */

type Queryable = pg.Pool | pg.PoolClient;

/**
 * The store for several replicas: every write two workers could race on is one conditional
 * statement or a short transaction holding a row lock (inbox claims skip rows others hold).
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;

  /** A connection string, or a pool config (e.g. with `options: "-c search_path=..."`). */
  constructor(config: string | pg.PoolConfig) {
    this.pool = new pg.Pool(typeof config === "string" ? { connectionString: config } : config);
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
  }

  private async rows<R>(sql: string, params: unknown[] = [], db: Queryable = this.pool): Promise<R[]> {
    return (await db.query(sql, params)).rows as R[];
  }

  private async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const [row] = await this.rows<{ v: number | null }>(
        "SELECT MAX(version) AS v FROM schema_migrations",
        [],
        c,
      );
      const current = row?.v ?? 0;
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        await c.query(m.sql);
        await c.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
      }
    });
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  // Inbox

  async enqueue(entry: InboxEntryInput, now: Date): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO inbox (delivery_id, source, kind, payload, status, attempts, due_at, received_at, partition_key)
       VALUES ($1, $2, $3, $4::jsonb, 'queued', 0, $5, $5, $6)
       ON CONFLICT (delivery_id) DO NOTHING`,
      [
        entry.deliveryId,
        entry.source,
        entry.kind,
        JSON.stringify(entry.payload ?? null),
        iso(now),
        entry.partition ?? null,
      ],
    );
    return result.rowCount === 1;
  }

  async claimInbox(
    workerId: string,
    now: Date,
    leaseMs: number,
    options: { skipPartitions?: readonly string[] } = {},
  ): Promise<InboxEntry | null> {
    const [row] = await this.rows<InboxRow>(
      `UPDATE inbox SET leased_by = $1, lease_until = $2, attempts = attempts + 1
       WHERE id = (
         SELECT id FROM inbox
         WHERE status = 'queued' AND due_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
           AND (partition_key IS NULL OR NOT (partition_key = ANY($4::text[])))
         ORDER BY id LIMIT 1
         FOR UPDATE SKIP LOCKED
       )
       RETURNING id, delivery_id, source, kind, payload, attempts, received_at, partition_key`,
      [workerId, iso(new Date(now.getTime() + leaseMs)), iso(now), [...(options.skipPartitions ?? [])]],
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      deliveryId: row.delivery_id,
      source: row.source as InboxSource,
      kind: row.kind,
      payload: row.payload,
      attempts: row.attempts,
      receivedAt: iso(row.received_at),
      partition: row.partition_key,
    };
  }

  async finishInbox(id: number, outcome: "done" | "dead", note: string | null, now: Date): Promise<void> {
    // A handled entry keeps its delivery id (deduplication), not its payload; a dead one keeps both.
    await this.pool.query(
      `UPDATE inbox SET status = $1, note = $2, leased_by = NULL, lease_until = NULL, finished_at = $3,
         payload = CASE WHEN $1 = 'done' THEN 'null'::jsonb ELSE payload END
       WHERE id = $4`,
      [outcome, truncate(note), iso(now), id],
    );
  }

  async pruneRetained(cutoffs: { deliveriesBefore: Date; threadsBefore: Date }) {
    return this.tx(async (client) => {
      const deliveries = await client.query(
        "DELETE FROM inbox WHERE status IN ('done', 'dead') AND finished_at < $1",
        [iso(cutoffs.deliveriesBefore)],
      );
      await client.query("DELETE FROM refs WHERE key LIKE 'idem:%' AND updated_at < $1", [
        iso(cutoffs.deliveriesBefore),
      ]);
      const threads = await client.query(
        "DELETE FROM threads WHERE status IN ('done', 'failed', 'cancelled') AND updated_at < $1",
        [iso(cutoffs.threadsBefore)],
      );
      return { deliveries: deliveries.rowCount ?? 0, threads: threads.rowCount ?? 0 };
    });
  }

  async renewInboxLease(id: number, workerId: string, leaseUntil: Date): Promise<boolean> {
    const result = await this.pool.query(
      "UPDATE inbox SET lease_until = $1 WHERE id = $2 AND leased_by = $3 AND status = 'queued'",
      [iso(leaseUntil), id, workerId],
    );
    return result.rowCount === 1;
  }

  async retryInbox(id: number, error: string, retryAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE inbox SET due_at = $1, last_error = $2, leased_by = NULL, lease_until = NULL
       WHERE id = $3 AND status = 'queued'`,
      [iso(retryAt), truncate(error), id],
    );
  }

  async deferInbox(id: number, note: string, retryAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE inbox SET due_at = $1, note = $2, leased_by = NULL, lease_until = NULL,
         attempts = GREATEST(attempts - 1, 0)
       WHERE id = $3 AND status = 'queued'`,
      [iso(retryAt), truncate(note), id],
    );
  }

  async inboxCounts(): Promise<Record<"queued" | "done" | "dead", number>> {
    const rows = await this.rows<{ status: string; n: string }>(
      "SELECT status, COUNT(*) AS n FROM inbox GROUP BY status",
    );
    const counts = { queued: 0, done: 0, dead: 0 };
    for (const r of rows) {
      if (r.status === "queued" || r.status === "done" || r.status === "dead") counts[r.status] = Number(r.n);
    }
    return counts;
  }

  // Threads

  async createThread(thread: NewThread, events: NewEvent[], now: Date): Promise<boolean> {
    const at = iso(now);
    const stored = stamp(events, 1, at);
    const { status, waitingOn } = deriveState(stored);
    return this.tx(async (c) => {
      const inserted = await c.query(
        `INSERT INTO threads (id, repo, installation_id, title, status, waiting_on, created_at, updated_at, last_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         ON CONFLICT (id) DO NOTHING`,
        [thread.id, thread.repo, thread.installationId, thread.title, status, waitingOn, at, stored.length],
      );
      if (inserted.rowCount !== 1) return false;
      await this.insertEvents(c, thread.id, stored);
      return true;
    });
  }

  private async insertEvents(c: pg.PoolClient, threadId: string, events: ThreadEvent[]): Promise<void> {
    if (events.length === 0) return;
    await c.query(
      `INSERT INTO events (thread_id, seq, type, at, data)
       SELECT $1, e.seq, e.type, e.at, e.data
       FROM jsonb_to_recordset($2::jsonb) AS e(seq INTEGER, type TEXT, at TIMESTAMPTZ, data JSONB)`,
      [threadId, JSON.stringify(events.map((e) => ({ seq: e.seq, type: e.type, at: e.at, data: e.data })))],
    );
  }

  private async readEvents(threadId: string, db: Queryable): Promise<ThreadEvent[]> {
    const rows = await this.rows<EventRow>(
      "SELECT seq, type, at, data FROM events WHERE thread_id = $1 ORDER BY seq",
      [threadId],
      db,
    );
    return rows.map(toEvent);
  }

  async getThread(id: string): Promise<Thread | null> {
    const [row] = await this.rows<ThreadRow>("SELECT * FROM threads WHERE id = $1", [id]);
    if (!row) return null;
    return {
      id: row.id,
      repo: row.repo,
      installationId: Number(row.installation_id),
      createdAt: iso(row.created_at),
      events: await this.readEvents(id, this.pool),
    };
  }

  async threadCounts(): Promise<Partial<Record<ThreadStatus, number>>> {
    const rows = await this.rows<{ status: ThreadStatus; n: string }>(
      "SELECT status, COUNT(*) AS n FROM threads GROUP BY status",
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async getThreadSummary(id: string): Promise<ThreadSummary | null> {
    const [row] = await this.rows<ThreadRow>("SELECT * FROM threads WHERE id = $1", [id]);
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
    const at = iso(now);
    const known = usablePrior(prior, expectedSeq);
    const added = stamp(events, expectedSeq + 1, at);
    return this.tx(async (c) => {
      const [row] = await this.rows<{ last_seq: number }>(
        "SELECT last_seq FROM threads WHERE id = $1 FOR UPDATE",
        [threadId],
        c,
      );
      if (!row) throw new Error(`appendEvents: unknown thread ${threadId}`);
      if (row.last_seq !== expectedSeq) throw new AppendConflictError(threadId, expectedSeq, row.last_seq);
      await this.insertEvents(c, threadId, added);
      const { status, waitingOn } = deriveState(
        known ? [...known, ...added] : await this.readEvents(threadId, c),
      );
      await c.query(
        "UPDATE threads SET status = $1, waiting_on = $2, last_seq = $3, updated_at = $4 WHERE id = $5",
        [status, waitingOn, expectedSeq + added.length, at, threadId],
      );
      return added;
    });
  }

  async listThreads(filter: {
    status?: ThreadStatus[];
    repo?: string;
    limit?: number;
    offset?: number;
  }): Promise<ThreadSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status && filter.status.length > 0) {
      params.push(filter.status);
      where.push(`status = ANY($${params.length}::text[])`);
    }
    if (filter.repo !== undefined) {
      params.push(filter.repo);
      where.push(`repo = $${params.length}`);
    }
    params.push(filter.limit ?? 50, filter.offset ?? 0);
    const sql = `SELECT * FROM threads ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`;
    return (await this.rows<ThreadRow>(sql, params)).map(toSummary);
  }

  async threadsWaitingFor(waitingOn: string): Promise<ThreadSummary[]> {
    const rows = await this.rows<ThreadRow>(
      `SELECT * FROM threads WHERE status = 'waiting_for_lock' AND waiting_on = $1
       ORDER BY created_at, id`,
      [waitingOn],
    );
    return rows.map(toSummary);
  }

  // Thread leases

  async acquireThreadLease(threadId: string, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const rows = await this.rows<{ thread_id: string }>(
      `INSERT INTO thread_leases (thread_id, owner, lease_until) VALUES ($1, $2, $3)
       ON CONFLICT (thread_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE thread_leases.owner = EXCLUDED.owner OR thread_leases.lease_until <= $4
       RETURNING thread_id`,
      [threadId, owner, iso(new Date(now.getTime() + leaseMs)), iso(now)],
    );
    return rows.length === 1;
  }

  async renewThreadLease(threadId: string, owner: string, leaseUntil: Date): Promise<boolean> {
    const result = await this.pool.query(
      "UPDATE thread_leases SET lease_until = $1 WHERE thread_id = $2 AND owner = $3",
      [iso(leaseUntil), threadId, owner],
    );
    return result.rowCount === 1;
  }

  async releaseThreadLease(threadId: string, owner: string): Promise<void> {
    await this.pool.query("DELETE FROM thread_leases WHERE thread_id = $1 AND owner = $2", [threadId, owner]);
  }

  async unownedThreads(
    statuses: readonly ThreadStatus[],
    now: Date,
    limit: number,
    after = "",
  ): Promise<ThreadSummary[]> {
    if (statuses.length === 0) return [];
    const rows = await this.rows<ThreadRow>(
      `SELECT t.* FROM threads t LEFT JOIN thread_leases l ON l.thread_id = t.id
       WHERE t.status = ANY($1::text[]) AND (l.thread_id IS NULL OR l.lease_until <= $2) AND t.id > $3
       ORDER BY t.id LIMIT $4`,
      [[...statuses], iso(now), after, limit],
    );
    return rows.map(toSummary);
  }

  // Locks

  async acquireLock(
    key: string,
    holder: LockHolder,
    now: Date,
  ): Promise<{ acquired: true } | { acquired: false; holder: Lock }> {
    // Insert, or re-take it if this thread holds it; otherwise read the holder. If the holder
    // released it in between, try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.pool.query(
        `INSERT INTO locks (key, thread_id, step_seq, acquired_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET step_seq = EXCLUDED.step_seq
         WHERE locks.thread_id = EXCLUDED.thread_id`,
        [key, holder.threadId, holder.stepSeq, iso(now)],
      );
      if (taken.rowCount === 1) return { acquired: true };
      const current = await this.getLock(key);
      if (current) return { acquired: false, holder: current };
    }
    throw new Error(`acquireLock: lock ${key} kept changing hands`);
  }

  async getLock(key: string): Promise<Lock | null> {
    const [row] = await this.rows<LockRow>("SELECT * FROM locks WHERE key = $1", [key]);
    return row ? toLock(row) : null;
  }

  async releaseLock(key: string, threadId: string): Promise<void> {
    await this.pool.query("DELETE FROM locks WHERE key = $1 AND thread_id = $2", [key, threadId]);
  }

  async listLocks(): Promise<Lock[]> {
    return (await this.rows<LockRow>("SELECT * FROM locks ORDER BY acquired_at, key")).map(toLock);
  }

  // References

  async setRef(key: string, value: string, now: Date): Promise<void> {
    await this.pool.query(
      "INSERT INTO refs (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
      [key, value, now],
    );
  }

  async getRef(key: string): Promise<string | null> {
    const [row] = await this.rows<{ value: string }>("SELECT value FROM refs WHERE key = $1", [key]);
    return row?.value ?? null;
  }

  // Deployments

  async recordDeployment(
    record: Omit<DeploymentRecord, "state" | "finishedAt" | "runId">,
    now: Date,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO deployments
         (deployment_id, repo, component, environment, sha, thread_id, step_seq, run_id, state, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 'pending', $8, NULL)
       ON CONFLICT (deployment_id) DO NOTHING`,
      [
        record.deploymentId,
        record.repo,
        record.component,
        record.environment,
        record.sha,
        record.threadId,
        record.stepSeq,
        iso(now),
      ],
    );
  }

  async setDeploymentRun(deploymentId: number, runId: number): Promise<void> {
    await this.pool.query("UPDATE deployments SET run_id = $1 WHERE deployment_id = $2", [
      runId,
      deploymentId,
    ]);
  }

  async finishDeployment(deploymentId: number, state: "success" | "failure", now: Date): Promise<boolean> {
    const result = await this.pool.query(
      "UPDATE deployments SET state = $1, finished_at = $2 WHERE deployment_id = $3 AND state = 'pending'",
      [state, iso(now), deploymentId],
    );
    return result.rowCount === 1;
  }

  async getDeployment(deploymentId: number): Promise<DeploymentRecord | null> {
    const [row] = await this.rows<DeploymentRow>("SELECT * FROM deployments WHERE deployment_id = $1", [
      deploymentId,
    ]);
    return row ? toDeployment(row) : null;
  }

  async getDeploymentByRun(runId: number): Promise<DeploymentRecord | null> {
    const [row] = await this.rows<DeploymentRow>(
      "SELECT * FROM deployments WHERE run_id = $1 ORDER BY deployment_id DESC LIMIT 1",
      [runId],
    );
    return row ? toDeployment(row) : null;
  }

  async findDeploymentForStep(threadId: string, stepSeq: number): Promise<DeploymentRecord | null> {
    const [row] = await this.rows<DeploymentRow>(
      "SELECT * FROM deployments WHERE thread_id = $1 AND step_seq = $2 ORDER BY deployment_id DESC LIMIT 1",
      [threadId, stepSeq],
    );
    return row ? toDeployment(row) : null;
  }

  async successfulDeployments(
    repo: string,
    filter: { component?: string; environment?: string; limit?: number },
  ): Promise<DeploymentRecord[]> {
    const where = ["repo = $1", "state = 'success'"];
    const params: unknown[] = [repo];
    if (filter.component !== undefined) {
      params.push(filter.component);
      where.push(`component = $${params.length}`);
    }
    if (filter.environment !== undefined) {
      params.push(filter.environment);
      where.push(`environment = $${params.length}`);
    }
    params.push(filter.limit ?? 20);
    const sql = `SELECT * FROM deployments WHERE ${where.join(" AND ")}
      ORDER BY finished_at DESC, deployment_id DESC LIMIT $${params.length}`;
    return (await this.rows<DeploymentRow>(sql, params)).map(toDeployment);
  }
}
