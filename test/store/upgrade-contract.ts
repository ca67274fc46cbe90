import { expect, it } from "vitest";
import type { Dialect } from "../../src/store/dialect.js";
import { applyMigrations } from "../../src/store/migrate.js";
import type { Schema } from "../../src/store/migrations/schema.js";
import type { Store } from "../../src/store/store.js";

/**
 * A database at schema version 4 (as deployed before the lock-key column) upgrades on the next start:
 * a thread already waiting for a lock is found by its key.
 */
export function itUpgradesFromVersion4(
  schema: Schema,
  openDatabase: () => Promise<{ dialect: Dialect; reopen: () => Store }>,
): void {
  it("upgrades a database at version 4, finding the threads that already wait for a lock by its key", async () => {
    const { dialect, reopen } = await openDatabase();
    await applyMigrations(dialect, {
      ...schema,
      migrations: schema.migrations.filter((m) => m.version <= 4),
    });
    await dialect.query(
      `INSERT INTO threads (id, repo, installation_id, title, status, waiting_on, created_at, updated_at, last_seq)
       VALUES ('old', 'acme/shop', 1, 'PR 1', 'waiting_for_lock', 'lock acme/shop:backend:staging', ?, ?, 0),
              ('ci', 'acme/shop', 1, 'PR 2', 'waiting_for_lock', 'CI of abcdef0 to pass', ?, ?, 0)`,
      [
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:00.000Z",
      ],
    );
    await dialect.close();
    const store = reopen();
    try {
      await store.migrate();
      expect((await store.threadsWaitingForLock("acme/shop:backend:staging")).map((t) => t.id)).toEqual([
        "old",
      ]);
      expect(await store.listManualLocks()).toEqual([]);
    } finally {
      await store.close();
    }
  });
}
