import { beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.js";
import { wakeOnEnqueue } from "../../src/worker/wake-on-enqueue.js";

const NOW = new Date("2026-11-25T10:00:00Z");
const entry = (deliveryId: string) => ({
  deliveryId,
  source: "github" as const,
  kind: "pull_request.closed",
  payload: { action: "closed" },
  partition: "acme/shop",
});

describe("waking the worker when the HTTP side queues an entry", () => {
  const store = new SqliteStore(":memory:");
  beforeAll(() => store.migrate());

  it("wakes the worker once for each entry stored, and not for a redelivery", async () => {
    let wakes = 0;
    const inbox = wakeOnEnqueue(store, () => (wakes += 1));
    expect(await inbox.enqueue(entry("d-1"), NOW)).toBe(true);
    expect(wakes).toBe(1);
    expect(await inbox.enqueue(entry("d-1"), NOW)).toBe(false);
    expect(wakes).toBe(1);
    expect(await inbox.enqueue(entry("d-2"), NOW)).toBe(true);
    expect(wakes).toBe(2);
  });

  it("passes every other call through to the store unchanged", async () => {
    const inbox = wakeOnEnqueue(store, () => {
      throw new Error("only an enqueue wakes the worker");
    });
    const counts = await inbox.inboxCounts();
    expect(counts).toEqual(await store.inboxCounts());
    expect(counts.queued).toBeGreaterThanOrEqual(2);
  });
});
