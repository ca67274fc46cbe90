import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open-store.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { newEvent } from "../../src/thread/events.js";
import { SQLITE_SCHEMA } from "../../src/store/migrations/sqlite.js";
import { SqliteDialect } from "../../src/store/sqlite-dialect.js";
import { describeMoreStoreContract } from "./more-contract.js";
import { describeStoreContract } from "./store-contract.js";
import { itUpgradesFromVersion4 } from "./upgrade-contract.js";

describeStoreContract("SqliteStore :memory:", async () => new SqliteStore(":memory:"));
describeMoreStoreContract("SqliteStore :memory:", async () => new SqliteStore(":memory:"));

describe("SqliteStore on a file", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("drops a handled entry's payload and keeps a dead one's, for its diagnosis", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploybot-store-"));
    dirs.push(dir);
    const path = join(dir, "deploybot.sqlite");
    const now = new Date("2025-01-01T00:00:00.000Z");
    const store = new SqliteStore(path);
    await store.migrate();
    for (const id of ["handled", "dead"]) {
      await store.enqueue(
        { deliveryId: id, source: "github", kind: "push", payload: { body: "x".repeat(1000) } },
        now,
      );
      const entry = await store.claimInbox("w", now, 60_000);
      await store.finishInbox(entry!.id, id === "handled" ? "done" : "dead", null, now);
    }
    await store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT delivery_id, payload FROM inbox ORDER BY id").all();
    db.close();
    expect(rows).toEqual([
      { delivery_id: "handled", payload: "null" },
      { delivery_id: "dead", payload: JSON.stringify({ body: "x".repeat(1000) }) },
    ]);
  });

  itUpgradesFromVersion4(SQLITE_SCHEMA, async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploybot-store-"));
    dirs.push(dir);
    const path = join(dir, "deploybot.sqlite");
    return { dialect: new SqliteDialect(path), reopen: () => new SqliteStore(path) };
  });

  it("keeps its data across close and reopen, creating the parent directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploybot-store-"));
    dirs.push(dir);
    const path = join(dir, "nested", "deploybot.sqlite");
    const now = new Date("2025-01-01T00:00:00.000Z");

    const first = new SqliteStore(path);
    await first.migrate();
    await first.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: { ref: "main" } }, now);
    await first.createThread(
      { id: "t1", repo: "acme/shop", installationId: 7, title: "PR 1" },
      [newEvent("human_needed", { question: "Ship it?", reason: "first deploy" })],
      now,
    );
    await first.acquireLock("acme/shop:backend:staging", { threadId: "t1", stepSeq: 1 }, now);
    await first.close();

    const second = new SqliteStore(path);
    await second.migrate();
    try {
      expect(await second.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
      expect((await second.claimInbox("w", now, 1000))?.payload).toEqual({ ref: "main" });
      expect(await second.getThreadSummary("t1")).toMatchObject({ status: "waiting_for_human", lastSeq: 1 });
      expect((await second.getThread("t1"))?.events[0]?.type).toBe("human_needed");
      expect(await second.getLock("acme/shop:backend:staging")).toMatchObject({ threadId: "t1" });
    } finally {
      await second.close();
    }
  });
});

describe("openStore", () => {
  it("opens a migrated in-memory SQLite store for sqlite::memory:", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      expect(await store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
    } finally {
      await store.close();
    }
  });

  it("rejects an unknown scheme, naming DATABASE_URL and the accepted forms", async () => {
    await expect(openStore("mysql://localhost/db")).rejects.toThrow(
      /DATABASE_URL.*sqlite:<path>.*postgres:\/\//,
    );
  });
});
