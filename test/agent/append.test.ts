import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendUnlessMoved } from "../../src/agent/append.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { newEvent, type Thread } from "../../src/thread/events.js";

const clock = () => new Date("2026-11-24T12:00:00Z");
const NEW_THREAD = { id: "t1", repo: "acme/shop", installationId: 1, title: "acme/shop#1" };
const humanNeeded = () => newEvent("human_needed", { question: "which environment?", reason: "two match" });
const humanAnswered = () => newEvent("human_answered", { answer: "staging", slack_user: null });

describe("appending unless another writer moved the thread", () => {
  let store: SqliteStore;
  let read: Thread;

  beforeEach(async () => {
    store = new SqliteStore(":memory:");
    await store.migrate();
    await store.createThread(NEW_THREAD, [humanNeeded()], clock());
    read = (await store.getThread("t1"))!;
  });
  afterEach(async () => {
    await store.close();
  });

  it("returns the stored events when the thread is still as the caller read it", async () => {
    const added = await appendUnlessMoved({ store, clock }, read, [humanAnswered()]);
    expect(added?.map((e) => [e.type, e.seq])).toEqual([["human_answered", 2]]);
  });

  it("returns null and stores nothing when another writer came first", async () => {
    await appendUnlessMoved({ store, clock }, read, [humanAnswered()]);
    const added = await appendUnlessMoved({ store, clock }, read, [humanAnswered()]);
    expect(added).toBeNull();
    expect((await store.getThread("t1"))!.events).toHaveLength(2);
  });

  it("throws any other failure", async () => {
    const unknown: Thread = { ...read, id: "t-unknown" };
    await expect(appendUnlessMoved({ store, clock }, unknown, [humanAnswered()])).rejects.toThrow(
      "unknown thread t-unknown",
    );
  });
});
