import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open-store.js";
import { PostgresStore } from "../../src/store/postgres.js";
import { POSTGRES_SCHEMA } from "../../src/store/migrations/postgres.js";
import { PostgresDialect } from "../../src/store/postgres-dialect.js";
import { describeMoreStoreContract } from "./more-contract.js";
import { describeStoreContract } from "./store-contract.js";
import { itUpgradesFromVersion4 } from "./upgrade-contract.js";

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)("PostgresStore (TEST_DATABASE_URL)", () => {
  // Each store gets a fresh schema of this run; all are dropped at the end.
  const run = `deploybot_test_${randomBytes(4).toString("hex")}`;
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: url });

  const makeStore = async (): Promise<PostgresStore> => {
    const schema = `${run}_${schemas.length}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    return new PostgresStore({ connectionString: url, options: `-c search_path=${schema}` });
  };

  afterAll(async () => {
    try {
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await admin.end();
    }
  });

  describeStoreContract("PostgresStore", makeStore);
  describeMoreStoreContract("PostgresStore", makeStore);

  it("lets concurrent claimers take distinct entries", async () => {
    const store = await makeStore();
    await store.migrate();
    try {
      const now = new Date("2025-01-01T00:00:00.000Z");
      for (let i = 0; i < 20; i++) {
        await store.enqueue({ deliveryId: `d${i}`, source: "github", kind: "push", payload: { i } }, now);
      }
      const claimed = await Promise.all(
        Array.from({ length: 25 }, (_, i) => store.claimInbox(`w${i}`, now, 60_000)),
      );
      const ids = claimed.filter((c) => c !== null).map((c) => c.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    } finally {
      await store.close();
    }
  });

  it("lets two stores migrate the same fresh schema at once, each migration applied once", async () => {
    const first = await makeStore();
    const schema = schemas[schemas.length - 1]!;
    const second = new PostgresStore({ connectionString: url, options: `-c search_path=${schema}` });
    try {
      const results = await Promise.allSettled([first.migrate(), second.migrate()]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
      const versions = await admin.query<{ version: number }>(
        `SELECT version FROM ${schema}.schema_migrations ORDER BY version`,
      );
      expect(versions.rows.map((r) => r.version)).toEqual(POSTGRES_SCHEMA.migrations.map((m) => m.version));
      expect(await first.listManualLocks()).toEqual([]);
      expect(await second.listManualLocks()).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  itUpgradesFromVersion4(POSTGRES_SCHEMA, async () => {
    await makeStore();
    const options = `-c search_path=${schemas[schemas.length - 1]!}`;
    return {
      dialect: new PostgresDialect({ connectionString: url, options }),
      reopen: () => new PostgresStore({ connectionString: url, options }),
    };
  });

  it("is what openStore returns, migrated, for a postgres:// URL", async () => {
    const schema = `${run}_${schemas.length}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    const scoped = new URL(url!);
    scoped.searchParams.set("options", `-c search_path=${schema}`);
    const store = await openStore(scoped.toString());
    try {
      expect(store).toBeInstanceOf(PostgresStore);
      const tables = await admin.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'inbox'",
        [schemas[schemas.length - 1]],
      );
      expect(tables.rowCount).toBe(1);
    } finally {
      await store.close();
    }
  });
});
