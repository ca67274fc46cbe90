import type { Dialect } from "./dialect.js";
import type { Schema } from "./migrations/schema.js";

/**
 * Applies the migrations newer than the recorded version, each recorded in `schema_migrations`, all
 * in one transaction; replicas starting together take turns (the dialect's migration lock), so the
 * second finds the work done.
 */
export async function applyMigrations(db: Dialect, schema: Schema): Promise<void> {
  await db.transaction(async (tx) => {
    await db.lockMigrations(tx);
    await tx.exec(schema.versionTable);
    const { rows } = await tx.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
    const current = rows[0]?.v ?? 0;
    for (const m of schema.migrations) {
      if (m.version <= current) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version) VALUES (?)", [m.version]);
    }
  });
}
