import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { newEvent, type ThreadEvent } from "../src/thread/events.js";
import { TestDatabase } from "../test/crash/postgres-database.js";
import { round, since } from "./stats.js";

/**
 * Thread appends as the runner makes them: one event at a time, conditional on the last seq, with
 * the events the caller already holds (so the store derives the status without reading back).
 */

export interface StoreResult {
  sqlite_appends_per_s: number;
  postgres_appends_per_s: number | null;
  append_cost_ratio_1000_vs_10: number;
}

const at = new Date("2026-11-24T12:00:00Z");
const answer = (seq: number) => newEvent("human_answered", { answer: `answer ${seq}`, slack_user: "U1" });

/** Appends `count` events to a new thread; returns the milliseconds each append took. */
async function appendRun(store: Store, threadId: string, count: number): Promise<number[]> {
  await store.createThread({ id: threadId, repo: "acme/shop", installationId: 1, title: "bench" }, [], at);
  let events: ThreadEvent[] = [];
  const took: number[] = [];
  for (let seq = 0; seq < count; seq++) {
    const started = performance.now();
    const added = await store.appendEvents(threadId, seq, [answer(seq)], at, events);
    took.push(since(started));
    events = [...events, ...added];
  }
  return took;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function appendsPerSecond(store: Store, prefix: string): Promise<number> {
  await appendRun(store, `${prefix}_warm`, 200);
  const took = await appendRun(store, `${prefix}_rate`, 2_000);
  return round(took.length / (sum(took) / 1000));
}

/** Mean cost of the appends numbered [from, from + 100) on one thread. */
function windowCost(took: number[], from: number): number {
  return sum(took.slice(from, from + 100)) / 100;
}

export async function benchStore(postgresUrl: string | undefined): Promise<StoreResult> {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-bench-"));
  const sqlite = await openStore(`sqlite:${join(dir, "store.sqlite")}`);
  try {
    const sqlite_appends_per_s = await appendsPerSecond(sqlite, "th_sqlite");
    // One thread grown to 1,100 events: appends at 10-110 against appends at 1,000-1,100.
    const took = await appendRun(sqlite, "th_growth", 1_100);
    const ratio = windowCost(took, 1_000) / windowCost(took, 10);
    return {
      sqlite_appends_per_s,
      postgres_appends_per_s: postgresUrl ? await postgresAppends(postgresUrl) : null,
      append_cost_ratio_1000_vs_10: round(ratio, 2),
    };
  } finally {
    await sqlite.close();
  }
}

/** On a fresh database next to the one `url` names, dropped afterwards. */
async function postgresAppends(url: string): Promise<number | null> {
  const previous = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = url;
  let database: TestDatabase;
  try {
    database = await TestDatabase.create("bench");
  } catch (error) {
    console.warn(`PostgreSQL skipped: ${String(error).slice(0, 200)}`);
    return null;
  } finally {
    process.env.TEST_DATABASE_URL = previous;
  }
  const store = await openStore(database.url);
  try {
    return await appendsPerSecond(store, "th_pg");
  } finally {
    await store.close();
    await database.drop();
  }
}
