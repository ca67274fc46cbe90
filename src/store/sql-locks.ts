import { wroteOne, type Dialect } from "./dialect.js";
import { toLock, toManualLock, type LockRow, type ManualLockRow } from "./rows.js";
import type { Lock, LockHolder, ManualLock } from "./store.js";

/**
 * Who may act, in SQL: thread leases (one owner advances a thread), deploy locks (one running deploy
 * per repository, component and environment) and manual locks (deploy freezes humans set). Each
 * take is one conditional upsert; when it fails the holder is read, and if it left in between, the
 * take is tried again.
 */

const RETRIES = 5;

export const acquireThreadLease = (
  db: Dialect,
  threadId: string,
  owner: string,
  now: Date,
  leaseMs: number,
) =>
  wroteOne(
    db,
    `INSERT INTO thread_leases (thread_id, owner, lease_until) VALUES (?, ?, ?)
     ON CONFLICT (thread_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
     WHERE thread_leases.owner = excluded.owner OR thread_leases.lease_until <= ?
     RETURNING thread_id`,
    [threadId, owner, new Date(now.getTime() + leaseMs).toISOString(), now.toISOString()],
  );

export const renewThreadLease = (db: Dialect, threadId: string, owner: string, leaseUntil: Date) =>
  wroteOne(db, "UPDATE thread_leases SET lease_until = ? WHERE thread_id = ? AND owner = ?", [
    leaseUntil.toISOString(),
    threadId,
    owner,
  ]);

export async function releaseThreadLease(db: Dialect, threadId: string, owner: string): Promise<void> {
  await db.query("DELETE FROM thread_leases WHERE thread_id = ? AND owner = ?", [threadId, owner]);
}

export async function acquireLock(
  db: Dialect,
  key: string,
  holder: LockHolder,
  now: Date,
): Promise<{ acquired: true } | { acquired: false; holder: Lock }> {
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    // Inserted, or re-taken for a later step by the thread holding it.
    const { changes } = await db.query(
      `INSERT INTO locks (key, thread_id, step_seq, acquired_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET step_seq = excluded.step_seq
       WHERE locks.thread_id = excluded.thread_id`,
      [key, holder.threadId, holder.stepSeq, now.toISOString()],
    );
    if (changes === 1) return { acquired: true };
    const current = await getLock(db, key);
    if (current) return { acquired: false, holder: current };
  }
  throw new Error(`acquireLock: lock ${key} kept changing hands`);
}

export async function getLock(db: Dialect, key: string): Promise<Lock | null> {
  const { rows } = await db.query<LockRow>("SELECT * FROM locks WHERE key = ?", [key]);
  return rows[0] ? toLock(rows[0]) : null;
}

export async function releaseLock(db: Dialect, key: string, threadId: string): Promise<void> {
  await db.query("DELETE FROM locks WHERE key = ? AND thread_id = ?", [key, threadId]);
}

export async function listLocks(db: Dialect): Promise<Lock[]> {
  const { rows } = await db.query<LockRow>("SELECT * FROM locks ORDER BY acquired_at, key");
  return rows.map(toLock);
}

const MANUAL_LOCK_KEY = "repo = ? AND environment = ? AND component = ?";

export async function setManualLock(
  db: Dialect,
  lock: { repo: string; environment: string; component: string | null; reason: string; by: string; at: Date },
): Promise<{ created: boolean; lock: ManualLock }> {
  const key = [lock.repo, lock.environment, lock.component ?? ""];
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const inserted = await db.query<ManualLockRow>(
      `INSERT INTO manual_locks (repo, environment, component, reason, locked_by, locked_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (repo, environment, component) DO NOTHING
       RETURNING *`,
      [...key, lock.reason, lock.by, lock.at.toISOString()],
    );
    if (inserted.rows[0]) return { created: true, lock: toManualLock(inserted.rows[0]) };
    const { rows } = await db.query<ManualLockRow>(
      `SELECT * FROM manual_locks WHERE ${MANUAL_LOCK_KEY}`,
      key,
    );
    if (rows[0]) return { created: false, lock: toManualLock(rows[0]) };
  }
  throw new Error(`setManualLock: the lock on ${lock.repo} ${lock.environment} kept changing`);
}

export async function removeManualLock(
  db: Dialect,
  repo: string,
  environment: string,
  component: string | null,
): Promise<ManualLock | null> {
  const { rows } = await db.query<ManualLockRow>(
    `DELETE FROM manual_locks WHERE ${MANUAL_LOCK_KEY} RETURNING *`,
    [repo, environment, component ?? ""],
  );
  return rows[0] ? toManualLock(rows[0]) : null;
}

export async function listManualLocks(db: Dialect, repo?: string): Promise<ManualLock[]> {
  const { rows } = await db.query<ManualLockRow>(
    `SELECT * FROM manual_locks ${repo === undefined ? "" : "WHERE repo = ?"}
     ORDER BY repo, environment, component`,
    repo === undefined ? [] : [repo],
  );
  return rows.map(toManualLock);
}
