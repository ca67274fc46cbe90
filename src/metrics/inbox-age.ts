import { resolve } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { OldestQueuedSource } from "./metrics.js";

/**
 * When the oldest queued inbox entry was received, read at scrape time on a connection of its own
 * (the store's interface has no such query). It reads the store's `inbox` table (`status`,
 * `received_at`), read-only. Null for an in-memory SQLite database, which no second connection sees.
 */
export interface InboxAgeReader extends OldestQueuedSource {
  close(): Promise<void>;
}

const QUERY = "SELECT MIN(received_at) AS oldest FROM inbox WHERE status = 'queued'";

export function openInboxAgeReader(databaseUrl: string): InboxAgeReader | null {
  if (databaseUrl.startsWith("sqlite:")) {
    const path = databaseUrl.slice("sqlite:".length);
    if (path === "" || path === ":memory:") return null;
    let db: Database.Database | undefined;
    return {
      async oldestQueuedInboxAt() {
        db ??= new Database(resolve(process.cwd(), path), { readonly: true, fileMustExist: true });
        const row = db.prepare(QUERY).get() as { oldest: string | null } | undefined;
        return row?.oldest ?? null;
      },
      async close() {
        db?.close();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  return {
    async oldestQueuedInboxAt() {
      const { rows } = await pool.query<{ oldest: Date | null }>(QUERY);
      return rows[0]?.oldest ? rows[0].oldest.toISOString() : null;
    },
    close: () => pool.end(),
  };
}
