import { wroteOne, type Dialect, type SqlParam } from "./dialect.js";
import { clipNote, toInboxEntry, type InboxRow } from "./rows.js";
import type { InboxEntry, InboxEntryInput } from "./store.js";

/** The inbox in SQL: verified requests, stored before they are answered, claimed by the workers. */

export interface Enqueued {
  entry: InboxEntryInput;
  now: Date;
}

const INBOX_COLUMNS = "id, delivery_id, source, kind, payload, attempts, received_at, partition_key";

/**
 * Stores the entries in one statement (one transaction); per entry, false when its delivery id was
 * seen before, in an earlier commit or earlier in this batch: nothing more is stored for it.
 */
export async function enqueueBatch(db: Dialect, batch: readonly Enqueued[]): Promise<boolean[]> {
  const firstOf = new Map<string, number>();
  batch.forEach(({ entry }, i) => {
    if (!firstOf.has(entry.deliveryId)) firstOf.set(entry.deliveryId, i);
  });
  const unique = batch.filter((_, i) => firstOf.get(batch[i]!.entry.deliveryId) === i);
  const params: SqlParam[] = unique.flatMap(({ entry, now }) => [
    entry.deliveryId,
    entry.source,
    entry.kind,
    JSON.stringify(entry.payload ?? null),
    now.toISOString(),
    now.toISOString(),
    entry.partition ?? null,
  ]);
  const { rows } = await db.query<{ delivery_id: string }>(
    `INSERT INTO inbox (delivery_id, source, kind, payload, status, attempts, due_at, received_at, partition_key)
     VALUES ${unique.map(() => "(?, ?, ?, ?, 'queued', 0, ?, ?, ?)").join(", ")}
     ON CONFLICT (delivery_id) DO NOTHING
     RETURNING delivery_id`,
    params,
  );
  const stored = new Set(rows.map((r) => r.delivery_id));
  return batch.map(({ entry }, i) => firstOf.get(entry.deliveryId) === i && stored.has(entry.deliveryId));
}

export async function claimInbox(
  db: Dialect,
  workerId: string,
  now: Date,
  leaseMs: number,
  options: { skipPartitions?: readonly string[] } = {},
): Promise<InboxEntry | null> {
  const at = now.toISOString();
  const skip = db.inList("partition_key", options.skipPartitions ?? [], true);
  const { rows } = await db.query<InboxRow>(
    `UPDATE inbox SET leased_by = ?, lease_until = ?, attempts = attempts + 1
     WHERE id = (
       SELECT id FROM inbox
       WHERE status = 'queued' AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
         AND (partition_key IS NULL OR ${skip.sql})
       ORDER BY id LIMIT 1${db.sql.skipLocked}
     )
     RETURNING ${INBOX_COLUMNS}`,
    [workerId, new Date(now.getTime() + leaseMs).toISOString(), at, at, ...skip.params],
  );
  return rows[0] ? toInboxEntry(rows[0]) : null;
}

export async function finishInbox(
  db: Dialect,
  id: number,
  outcome: "done" | "dead",
  note: string | null,
  now: Date,
): Promise<void> {
  // A handled entry keeps its delivery id (deduplication), not its payload; a dead one keeps both.
  await db.query(
    `UPDATE inbox SET status = ?, note = ?, leased_by = NULL, lease_until = NULL, finished_at = ?,
       payload = CASE WHEN ? = 'done' THEN ${db.sql.jsonNull} ELSE payload END
     WHERE id = ?`,
    [outcome, clipNote(note), now.toISOString(), outcome, id],
  );
}

export const renewInboxLease = (db: Dialect, id: number, workerId: string, leaseUntil: Date) =>
  wroteOne(db, "UPDATE inbox SET lease_until = ? WHERE id = ? AND leased_by = ? AND status = 'queued'", [
    leaseUntil.toISOString(),
    id,
    workerId,
  ]);

export async function retryInbox(db: Dialect, id: number, error: string, retryAt: Date): Promise<void> {
  await db.query(
    `UPDATE inbox SET due_at = ?, last_error = ?, leased_by = NULL, lease_until = NULL
     WHERE id = ? AND status = 'queued'`,
    [retryAt.toISOString(), clipNote(error), id],
  );
}

export async function deferInbox(db: Dialect, id: number, note: string, retryAt: Date): Promise<void> {
  await db.query(
    `UPDATE inbox SET due_at = ?, note = ?, leased_by = NULL, lease_until = NULL,
       attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
     WHERE id = ? AND status = 'queued'`,
    [retryAt.toISOString(), clipNote(note), id],
  );
}

export async function inboxCounts(db: Dialect): Promise<Record<"queued" | "done" | "dead", number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    "SELECT status, COUNT(*) AS n FROM inbox GROUP BY status",
  );
  const counts = { queued: 0, done: 0, dead: 0 };
  for (const r of rows) {
    if (r.status === "queued" || r.status === "done" || r.status === "dead") counts[r.status] = r.n;
  }
  return counts;
}

/**
 * Retention: handled inbox entries finished before `deliveriesBefore` are deleted (their delivery
 * ids no longer deduplicate), and so are idempotency records older than it; finished threads last
 * updated before `threadsBefore` are deleted with their events (their inbox entries stay).
 */
export async function pruneRetained(
  db: Dialect,
  cutoffs: { deliveriesBefore: Date; threadsBefore: Date },
): Promise<{ deliveries: number; threads: number }> {
  const deliveriesBefore = cutoffs.deliveriesBefore.toISOString();
  return db.transaction(async (tx) => {
    const deliveries = await tx.query(
      "DELETE FROM inbox WHERE status IN ('done', 'dead') AND finished_at < ?",
      [deliveriesBefore],
    );
    await tx.query("DELETE FROM refs WHERE key LIKE 'idem:%' AND updated_at < ?", [deliveriesBefore]);
    const threads = await tx.query(
      "DELETE FROM threads WHERE status IN ('done', 'failed', 'cancelled') AND updated_at < ?",
      [cutoffs.threadsBefore.toISOString()],
    );
    return { deliveries: deliveries.changes, threads: threads.changes };
  });
}
