import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openInboxAgeReader } from "../../src/metrics/inbox-age.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { PostgresStore } from "../../src/store/postgres.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { Store } from "../../src/store/store.js";

const T0 = new Date("2026-11-24T12:00:00.000Z");
const entry = (id: string) => ({
  deliveryId: id,
  source: "github" as const,
  kind: "pull_request.closed",
  payload: {},
});

/** Two entries a minute apart; the first is handled, so the second is the oldest queued. */
async function fill(store: Store) {
  await store.migrate();
  await store.enqueue(entry("first"), T0);
  await store.enqueue(entry("second"), new Date(T0.getTime() + 60_000));
  const claimed = await store.claimInbox("w", new Date(T0.getTime() + 120_000), 60_000);
  await store.finishInbox(claimed!.id, "done", null, new Date(T0.getTime() + 121_000));
}

describe("the age of the oldest queued inbox entry", () => {
  it("is read from a SQLite database file beside the store's connection", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploybot-age-"));
    const store = new SqliteStore(join(dir, "db.sqlite"));
    const reader = openInboxAgeReader(`sqlite:${join(dir, "db.sqlite")}`)!;
    try {
      await fill(store);
      expect(await reader.oldestQueuedInboxAt()).toBe("2026-11-24T12:01:00.000Z");
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.observeStore(store, reader);
      expect(await metrics.registry.metrics()).toMatch(/^deploybot_inbox_oldest_queued_age_seconds \d+/m);
    } finally {
      await reader.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is not reported for an in-memory database, which no other connection sees", () => {
    expect(openInboxAgeReader("sqlite::memory:")).toBeNull();
  });

  const url = process.env.TEST_DATABASE_URL;
  describe.skipIf(!url)("on PostgreSQL (TEST_DATABASE_URL)", () => {
    const schema = `deploybot_age_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Pool({ connectionString: url });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });

    it("is read with a query of its own", async () => {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const store = new PostgresStore({ connectionString: url, options: `-c search_path=${schema}` });
      const separator = url!.includes("?") ? "&" : "?";
      const reader = openInboxAgeReader(
        `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      )!;
      try {
        await fill(store);
        expect(await reader.oldestQueuedInboxAt()).toBe("2026-11-24T12:01:00.000Z");
      } finally {
        await reader.close();
        await store.close();
      }
    });
  });
});
