import type { NewEvent, Thread, ThreadEvent, ThreadStatus } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import type { Dialect, SqlParam, SqlRunner } from "./dialect.js";
import { stamp, toEvent, toSummary, usablePrior, type EventRow, type ThreadRow } from "./rows.js";
import { AppendConflictError, type NewThread, type ThreadSummary } from "./store.js";

/** Threads and their append-only events in SQL, with the status kept beside each thread. */

/**
 * The columns a thread's events project to (its status, what it waits for, the lock key it waits
 * on): the one place the store derives them.
 */
function projection(events: readonly ThreadEvent[]): [string, string | null, string | null] {
  const state = deriveState(events);
  return [state.status, state.waitingOn, state.waitingLock];
}

async function insertEvents(tx: SqlRunner, threadId: string, events: readonly ThreadEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO events (thread_id, seq, type, at, data) VALUES ${events.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
    events.flatMap((e) => [threadId, e.seq, e.type, e.at, JSON.stringify(e.data)]),
  );
}

async function summaries(db: SqlRunner, sql: string, params: readonly SqlParam[]): Promise<ThreadSummary[]> {
  return (await db.query<ThreadRow>(sql, params)).rows.map(toSummary);
}

async function readEvents(db: SqlRunner, threadId: string): Promise<ThreadEvent[]> {
  const { rows } = await db.query<EventRow>(
    "SELECT seq, type, at, data FROM events WHERE thread_id = ? ORDER BY seq",
    [threadId],
  );
  return rows.map(toEvent);
}

export async function createThread(
  db: Dialect,
  thread: NewThread,
  events: NewEvent[],
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  const stored = stamp(events, 1, at);
  const projected = projection(stored);
  return db.transaction(async (tx) => {
    const { changes } = await tx.query(
      `INSERT INTO threads
         (id, repo, installation_id, title, status, waiting_on, waiting_lock, created_at, updated_at, last_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [thread.id, thread.repo, thread.installationId, thread.title, ...projected, at, at, stored.length],
    );
    if (changes !== 1) return false;
    await insertEvents(tx, thread.id, stored);
    return true;
  });
}

export async function getThread(db: Dialect, id: string): Promise<Thread | null> {
  const { rows } = await db.query<ThreadRow>("SELECT * FROM threads WHERE id = ?", [id]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    repo: row.repo,
    installationId: row.installation_id,
    createdAt: row.created_at,
    events: await readEvents(db, id),
  };
}

export async function getThreadSummary(db: Dialect, id: string): Promise<ThreadSummary | null> {
  const { rows } = await db.query<ThreadRow>("SELECT * FROM threads WHERE id = ?", [id]);
  return rows[0] ? toSummary(rows[0]) : null;
}

export async function appendEvents(
  db: Dialect,
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
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ last_seq: number }>(
      `SELECT last_seq FROM threads WHERE id = ?${db.sql.forUpdate}`,
      [threadId],
    );
    const row = rows[0];
    if (!row) throw new Error(`appendEvents: unknown thread ${threadId}`);
    if (row.last_seq !== expectedSeq) throw new AppendConflictError(threadId, expectedSeq, row.last_seq);
    await insertEvents(tx, threadId, added);
    const projected = projection(known ? [...known, ...added] : await readEvents(tx, threadId));
    await tx.query(
      "UPDATE threads SET status = ?, waiting_on = ?, waiting_lock = ?, last_seq = ?, updated_at = ? WHERE id = ?",
      [...projected, expectedSeq + added.length, at, threadId],
    );
    return added;
  });
}

export async function listThreads(
  db: Dialect,
  filter: { status?: ThreadStatus[]; repo?: string; limit?: number; offset?: number },
): Promise<ThreadSummary[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filter.status && filter.status.length > 0) {
    const statuses = db.inList("status", filter.status);
    where.push(statuses.sql);
    params.push(...statuses.params);
  }
  if (filter.repo !== undefined) {
    where.push("repo = ?");
    params.push(filter.repo);
  }
  return summaries(
    db,
    `SELECT * FROM threads ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT ? OFFSET ?`,
    [...params, filter.limit ?? 50, filter.offset ?? 0],
  );
}

export async function threadCounts(db: Dialect): Promise<Partial<Record<ThreadStatus, number>>> {
  const { rows } = await db.query<{ status: ThreadStatus; n: number }>(
    "SELECT status, COUNT(*) AS n FROM threads GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export const threadsWaitingForLock = (db: Dialect, lockKey: string) =>
  summaries(
    db,
    "SELECT * FROM threads WHERE status = 'waiting_for_lock' AND waiting_lock = ? ORDER BY created_at, id",
    [lockKey],
  );

export async function unownedThreads(
  db: Dialect,
  statuses: readonly ThreadStatus[],
  now: Date,
  limit: number,
  after = "",
): Promise<ThreadSummary[]> {
  if (statuses.length === 0) return [];
  const status = db.inList("t.status", statuses);
  return summaries(
    db,
    `SELECT t.* FROM threads t LEFT JOIN thread_leases l ON l.thread_id = t.id
     WHERE ${status.sql} AND (l.thread_id IS NULL OR l.lease_until <= ?) AND t.id > ?
     ORDER BY t.id LIMIT ?`,
    [...status.params, now.toISOString(), after, limit],
  );
}
