import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newEvent, type NewEvent } from "../../src/thread/events.js";
import { AppendConflictError, type NewThread, type Store } from "../../src/store/store.js";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");
/** A fixed instant `seconds` after T0: the store never reads the clock itself. */
const at = (seconds: number) => new Date(T0 + seconds * 1000);

const SHA = "a".repeat(40);
const SHA2 = "b".repeat(40);

const thread = (id: string, repo = "acme/shop"): NewThread => ({
  id,
  repo,
  installationId: 42,
  title: `Deploy ${id}`,
});

const ciOk = () => newEvent("ci_state", { sha: SHA, state: "success", summary: "all checks passed" });
const humanNeeded = () => newEvent("human_needed", { question: "Deploy to production?", reason: "no rule" });
const done = () => newEvent("done", { message: "deployed", by: "code" });
const deferred = (lockKey: string) =>
  newEvent("step_deferred", {
    step: { intent: "deploy_backend", environment: "staging", sha: SHA, reason: "merged" },
    reason: "another deploy holds the lock",
    lock_key: lockKey,
  });

/** Runs the behaviour every Store implementation must have against a fresh, migrated store per test. */
export function describeStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} (Store contract)`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
    });

    describe("migrations", () => {
      it("can run again on a migrated store without losing data", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        await store.migrate();
        expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
      });
    });

    describe("inbox", () => {
      it("dedupes a redelivered delivery id", async () => {
        const entry = {
          deliveryId: "d1",
          source: "github" as const,
          kind: "pull_request.closed",
          payload: { n: 1 },
        };
        expect(await store.enqueue(entry, at(0))).toBe(true);
        expect(await store.enqueue({ ...entry, payload: { n: 2 } }, at(1))).toBe(false);
        expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
        const claimed = await store.claimInbox("w1", at(2), 60_000);
        expect(claimed?.payload).toEqual({ n: 1 });
      });

      it("claims the oldest due entry first and returns it with its payload parsed", async () => {
        await store.enqueue(
          { deliveryId: "d1", source: "github", kind: "push", payload: { a: [1, 2] } },
          at(0),
        );
        await store.enqueue(
          { deliveryId: "d2", source: "slack", kind: "block_actions", payload: null },
          at(1),
        );
        const first = await store.claimInbox("w1", at(5), 60_000);
        expect(first).toMatchObject({
          deliveryId: "d1",
          source: "github",
          kind: "push",
          payload: { a: [1, 2] },
          attempts: 1,
          receivedAt: at(0).toISOString(),
        });
        const second = await store.claimInbox("w2", at(5), 60_000);
        expect(second).toMatchObject({ deliveryId: "d2", source: "slack", payload: null, attempts: 1 });
        expect(await store.claimInbox("w3", at(5), 60_000)).toBeNull();
      });

      it("does not claim an entry before it is due", async () => {
        await store.enqueue({ deliveryId: "d1", source: "api", kind: "deploy", payload: {} }, at(10));
        expect(await store.claimInbox("w1", at(9), 60_000)).toBeNull();
        expect(await store.claimInbox("w1", at(10), 60_000)).not.toBeNull();
      });

      it("leases a claimed entry so a second worker gets nothing until the lease expires", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        const first = await store.claimInbox("w1", at(1), 60_000);
        expect(first?.attempts).toBe(1);
        expect(await store.claimInbox("w2", at(30), 60_000)).toBeNull();
        expect(await store.claimInbox("w2", at(60.999), 60_000)).toBeNull();
        const again = await store.claimInbox("w2", at(61), 60_000);
        expect(again?.id).toBe(first?.id);
        expect(again?.attempts).toBe(2);
      });

      it("never claims finished entries again", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        await store.enqueue({ deliveryId: "d2", source: "github", kind: "push", payload: {} }, at(0));
        const a = await store.claimInbox("w1", at(1), 1_000);
        const b = await store.claimInbox("w1", at(1), 1_000);
        await store.finishInbox(a!.id, "done", null, at(2));
        await store.finishInbox(b!.id, "dead", "bad payload", at(2));
        expect(await store.claimInbox("w2", at(10_000), 1_000)).toBeNull();
        expect(await store.inboxCounts()).toEqual({ queued: 0, done: 1, dead: 1 });
      });

      it("makes a retried entry due again only at retryAt and counts its attempts", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        const first = await store.claimInbox("w1", at(1), 60_000);
        await store.retryInbox(first!.id, "GitHub said 502", at(20));
        expect(await store.claimInbox("w1", at(19), 60_000)).toBeNull();
        const second = await store.claimInbox("w2", at(20), 60_000);
        expect(second?.id).toBe(first!.id);
        expect(second?.attempts).toBe(2);
        expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
      });

      it("accepts a very long retry error", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        const first = await store.claimInbox("w1", at(1), 60_000);
        await store.retryInbox(first!.id, "x".repeat(100_000), at(2));
        expect((await store.claimInbox("w1", at(2), 60_000))?.attempts).toBe(2);
      });
    });

    describe("threads", () => {
      it("creates a thread with its events numbered from 1 and returns them parsed", async () => {
        expect(await store.createThread(thread("t1"), [ciOk(), humanNeeded()], at(0))).toBe(true);
        const t = await store.getThread("t1");
        expect(t).toEqual({
          id: "t1",
          repo: "acme/shop",
          installationId: 42,
          createdAt: at(0).toISOString(),
          events: [
            { seq: 1, at: at(0).toISOString(), ...ciOk() },
            { seq: 2, at: at(0).toISOString(), ...humanNeeded() },
          ],
        });
        expect(await store.getThreadSummary("t1")).toEqual({
          id: "t1",
          repo: "acme/shop",
          installationId: 42,
          title: "Deploy t1",
          status: "waiting_for_human",
          waitingOn: "an answer from a human",
          createdAt: at(0).toISOString(),
          updatedAt: at(0).toISOString(),
          lastSeq: 2,
        });
      });

      it("returns null for an unknown thread", async () => {
        expect(await store.getThread("nope")).toBeNull();
        expect(await store.getThreadSummary("nope")).toBeNull();
      });

      it("refuses a duplicate thread id and stores nothing new", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        expect(await store.createThread({ ...thread("t1"), title: "other" }, [ciOk(), done()], at(5))).toBe(
          false,
        );
        const t = await store.getThread("t1");
        expect(t?.events).toHaveLength(1);
        expect(await store.getThreadSummary("t1")).toMatchObject({
          title: "Deploy t1",
          status: "running",
          lastSeq: 1,
          updatedAt: at(0).toISOString(),
        });
      });

      it("appends events after the expected seq and returns only the new ones", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        const added = await store.appendEvents("t1", 1, [humanNeeded(), done()], at(3));
        expect(added).toEqual([
          { seq: 2, at: at(3).toISOString(), ...humanNeeded() },
          { seq: 3, at: at(3).toISOString(), ...done() },
        ]);
        expect((await store.getThread("t1"))?.events.map((e) => e.seq)).toEqual([1, 2, 3]);
        expect(await store.getThreadSummary("t1")).toMatchObject({
          lastSeq: 3,
          updatedAt: at(3).toISOString(),
        });
      });

      it("throws AppendConflictError on a stale expectedSeq and stores nothing", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        await store.appendEvents("t1", 1, [humanNeeded()], at(1));
        const error = await store.appendEvents("t1", 1, [done()], at(2)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AppendConflictError);
        expect(error).toMatchObject({ threadId: "t1", expectedSeq: 1, actualSeq: 2, status: 409 });
        expect((await store.getThread("t1"))?.events.map((e) => e.type)).toEqual([
          "ci_state",
          "human_needed",
        ]);
        expect(await store.getThreadSummary("t1")).toMatchObject({ status: "waiting_for_human", lastSeq: 2 });
      });

      it("lets exactly one of two concurrent appends with the same expectedSeq win", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        const results = await Promise.allSettled([
          store.appendEvents("t1", 1, [humanNeeded()], at(1)),
          store.appendEvents("t1", 1, [done()], at(1)),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(AppendConflictError);
        const events = (await store.getThread("t1"))!.events;
        expect(events).toHaveLength(2);
        expect(events[1]).toEqual((won[0] as PromiseFulfilledResult<unknown[]>).value[0]);
      });

      it("derives the status from the caller's events when given, the same as from a read", async () => {
        await store.createThread(thread("th1"), [ciOk()], at(0));
        const prior = (await store.getThread("th1"))!.events;
        await store.appendEvents("th1", 1, [humanNeeded()], at(1), prior);
        expect((await store.getThreadSummary("th1"))?.status).toBe("waiting_for_human");
        // Events that do not reach expectedSeq are not trusted: the store reads the thread instead.
        const stale = [{ ...prior[0]!, type: "done", data: { message: "x", by: "code" } }] as typeof prior;
        await store.appendEvents("th1", 2, [ciOk()], at(2), stale);
        expect((await store.getThreadSummary("th1"))?.status).toBe("waiting_for_human");
      });

      it("throws an error naming an unknown thread on append", async () => {
        await expect(store.appendEvents("ghost", 0, [ciOk()], at(0))).rejects.toThrow(/ghost/);
      });

      it("returns no events and changes nothing when appending an empty list", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        expect(await store.appendEvents("t1", 1, [], at(9))).toEqual([]);
        expect(await store.getThreadSummary("t1")).toMatchObject({
          lastSeq: 1,
          updatedAt: at(0).toISOString(),
        });
      });

      it("derives status and waitingOn from the events", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        expect(await store.getThreadSummary("t1")).toMatchObject({ status: "running", waitingOn: null });
        await store.appendEvents("t1", 1, [humanNeeded()], at(1));
        expect(await store.getThreadSummary("t1")).toMatchObject({
          status: "waiting_for_human",
          waitingOn: "an answer from a human",
        });
        await store.appendEvents("t1", 2, [deferred("acme/shop:backend:staging")], at(2));
        // A question still pending outranks the deferred step.
        expect(await store.getThreadSummary("t1")).toMatchObject({ status: "waiting_for_human" });
        await store.appendEvents(
          "t1",
          3,
          [newEvent("human_answered", { answer: "yes", slack_user: "U1" })],
          at(3),
        );
        expect(await store.getThreadSummary("t1")).toMatchObject({
          status: "waiting_for_lock",
          waitingOn: "lock acme/shop:backend:staging",
        });
        await store.appendEvents("t1", 4, [done()], at(4));
        expect(await store.getThreadSummary("t1")).toMatchObject({ status: "done", waitingOn: null });
      });

      it("rejects an event whose data does not match its schema and stores nothing", async () => {
        const bad = { type: "done", data: { message: "ok", by: "robot" } } as unknown as NewEvent;
        await expect(store.createThread(thread("t1"), [ciOk(), bad], at(0))).rejects.toThrow();
        expect(await store.getThread("t1")).toBeNull();
        await store.createThread(thread("t2"), [ciOk()], at(0));
        await expect(store.appendEvents("t2", 1, [humanNeeded(), bad], at(1))).rejects.toThrow();
        const unknownType = { type: "party", data: {} } as unknown as NewEvent;
        await expect(store.appendEvents("t2", 1, [unknownType], at(1))).rejects.toThrow(/party/);
        expect((await store.getThread("t2"))?.events).toHaveLength(1);
        expect(await store.getThreadSummary("t2")).toMatchObject({ lastSeq: 1, status: "running" });
      });

      it("lists threads newest updated first, filtered by status and repo, up to the limit", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        await store.createThread(thread("t2"), [humanNeeded()], at(1));
        await store.createThread(thread("t3", "acme/other"), [ciOk()], at(2));
        await store.appendEvents("t1", 1, [done()], at(3));
        expect((await store.listThreads({})).map((t) => t.id)).toEqual(["t1", "t3", "t2"]);
        expect((await store.listThreads({ limit: 2 })).map((t) => t.id)).toEqual(["t1", "t3"]);
        expect((await store.listThreads({ repo: "acme/shop" })).map((t) => t.id)).toEqual(["t1", "t2"]);
        const open = await store.listThreads({ status: ["running", "waiting_for_human"] });
        expect(open.map((t) => t.id)).toEqual(["t3", "t2"]);
        expect(
          (await store.listThreads({ status: ["running"], repo: "acme/shop" })).map((t) => t.id),
        ).toEqual([]);
      });

      it("pages through threads with an offset after the limit", async () => {
        await store.createThread(thread("t1"), [ciOk()], at(0));
        await store.createThread(thread("t2"), [ciOk()], at(1));
        await store.createThread(thread("t3"), [ciOk()], at(2));
        expect((await store.listThreads({ limit: 2, offset: 0 })).map((t) => t.id)).toEqual(["t3", "t2"]);
        expect((await store.listThreads({ limit: 2, offset: 2 })).map((t) => t.id)).toEqual(["t1"]);
        expect(await store.listThreads({ limit: 2, offset: 4 })).toEqual([]);
      });

      it("counts threads by status", async () => {
        expect(await store.threadCounts()).toEqual({});
        await store.createThread(thread("t1"), [ciOk()], at(0));
        await store.createThread(thread("t2"), [humanNeeded()], at(1));
        await store.createThread(thread("t3"), [ciOk()], at(2));
        await store.appendEvents("t1", 1, [done()], at(3));
        expect(await store.threadCounts()).toEqual({ done: 1, running: 1, waiting_for_human: 1 });
      });

      it("finds threads deferred on a lock key, oldest first", async () => {
        const key = "acme/shop:backend:staging";
        await store.createThread(thread("late"), [deferred(key)], at(5));
        await store.createThread(thread("early"), [deferred(key)], at(1));
        await store.createThread(thread("elsewhere"), [deferred("acme/shop:backend:production")], at(2));
        await store.createThread(thread("moved-on"), [deferred(key)], at(3));
        await store.appendEvents("moved-on", 1, [done()], at(4));
        await store.createThread(thread("on-ci"), [deferred(`ci:acme/shop:${SHA}`)], at(2));
        const waiting = await store.threadsWaitingForLock(key);
        expect(waiting.map((t) => t.id)).toEqual(["early", "late"]);
        expect(waiting[0]).toMatchObject({ status: "waiting_for_lock", waitingOn: `lock ${key}` });
        expect(await store.threadsWaitingForLock(`lock ${key}`)).toEqual([]);
        expect(await store.threadsWaitingForLock(`ci:acme/shop:${SHA}`)).toEqual([]);
      });
    });

    describe("inbox leases", () => {
      it("are renewed only by the worker that holds them", async () => {
        await store.enqueue({ deliveryId: "lease-1", source: "github", kind: "push", payload: {} }, at(0));
        const entry = (await store.claimInbox("w1", at(0), 1_000))!;
        expect(await store.renewInboxLease(entry.id, "w2", at(5))).toBe(false);
        expect(await store.renewInboxLease(entry.id, "w1", at(5))).toBe(true);
        expect(await store.claimInbox("w2", at(2), 1_000)).toBeNull();
        expect(await store.claimInbox("w2", at(6), 1_000)).toMatchObject({ id: entry.id });
      });
    });

    describe("partitions", () => {
      it("skips entries of a busy partition and still hands out the others", async () => {
        await store.enqueue(
          { deliveryId: "a1", source: "github", kind: "push", payload: {}, partition: "acme/a" },
          at(0),
        );
        await store.enqueue(
          { deliveryId: "b1", source: "github", kind: "push", payload: {}, partition: "acme/b" },
          at(0),
        );
        await store.enqueue({ deliveryId: "s1", source: "slack", kind: "slack.event", payload: {} }, at(0));
        const first = await store.claimInbox("w1", at(1), 60_000, { skipPartitions: ["acme/a"] });
        expect(first).toMatchObject({ deliveryId: "b1", partition: "acme/b" });
        const second = await store.claimInbox("w1", at(1), 60_000, { skipPartitions: ["acme/a", "acme/b"] });
        expect(second).toMatchObject({ deliveryId: "s1", partition: null });
        expect(await store.claimInbox("w1", at(1), 60_000, { skipPartitions: ["acme/a"] })).toBeNull();
        expect(await store.claimInbox("w1", at(1), 60_000)).toMatchObject({ deliveryId: "a1" });
      });

      it("gives a deferred entry back untried, due again at retryAt", async () => {
        await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(0));
        const claimed = await store.claimInbox("w1", at(1), 60_000);
        await store.deferInbox(claimed!.id, "thread busy", at(5));
        expect(await store.claimInbox("w2", at(4), 60_000)).toBeNull();
        expect(await store.claimInbox("w2", at(5), 60_000)).toMatchObject({ deliveryId: "d1", attempts: 1 });
      });
    });

    describe("retention", () => {
      it("keeps handled entries' delivery ids, deduplicating, until their cutoff", async () => {
        await store.enqueue(
          { deliveryId: "d1", source: "github", kind: "push", payload: { big: "x" } },
          at(0),
        );
        await store.enqueue(
          { deliveryId: "d2", source: "github", kind: "push", payload: { big: "y" } },
          at(0),
        );
        const first = await store.claimInbox("w", at(1), 60_000);
        await store.finishInbox(first!.id, "done", "ok", at(2));
        const second = await store.claimInbox("w", at(1), 60_000);
        await store.finishInbox(second!.id, "dead", "bad", at(2));
        expect(
          await store.enqueue({ deliveryId: "d1", source: "github", kind: "push", payload: {} }, at(3)),
        ).toBe(false);
        expect(await store.pruneRetained({ deliveriesBefore: at(2), threadsBefore: at(0) })).toEqual({
          deliveries: 0,
          threads: 0,
        });
      });

      it("deletes handled entries and finished threads older than their cutoffs, and nothing else", async () => {
        await store.enqueue({ deliveryId: "old", source: "github", kind: "push", payload: {} }, at(0));
        await store.enqueue({ deliveryId: "queued", source: "github", kind: "push", payload: {} }, at(0));
        const old = await store.claimInbox("w", at(1), 60_000);
        await store.finishInbox(old!.id, "done", null, at(1));
        await store.createThread(thread("th_done"), [ciOk(), done()], at(1));
        await store.createThread(thread("th_waiting"), [ciOk(), humanNeeded()], at(1));
        await store.createThread(thread("th_recent"), [ciOk(), done()], at(100));

        expect(await store.pruneRetained({ deliveriesBefore: at(50), threadsBefore: at(50) })).toEqual({
          deliveries: 1,
          threads: 1,
        });
        expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
        expect(await store.getThread("th_done")).toBeNull();
        expect(await store.getThread("th_waiting")).not.toBeNull();
        expect(await store.getThread("th_recent")).not.toBeNull();
        // Its delivery id no longer deduplicates.
        expect(
          await store.enqueue({ deliveryId: "old", source: "github", kind: "push", payload: {} }, at(60)),
        ).toBe(true);
      });
    });

    describe("thread leases", () => {
      it("let one owner at a time hold a thread, even one not created yet", async () => {
        expect(await store.acquireThreadLease("th1", "a", at(0), 10_000)).toBe(true);
        expect(await store.acquireThreadLease("th1", "b", at(1), 10_000)).toBe(false);
        expect(await store.acquireThreadLease("th1", "a", at(2), 10_000)).toBe(true);
        expect(await store.acquireThreadLease("th2", "b", at(2), 10_000)).toBe(true);
      });

      it("let exactly one of two concurrent owners win", async () => {
        const results = await Promise.all([
          store.acquireThreadLease("th1", "a", at(0), 10_000),
          store.acquireThreadLease("th1", "b", at(0), 10_000),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it("pass to another owner once the lease ran out, and the old owner can no longer renew", async () => {
        await store.acquireThreadLease("th1", "a", at(0), 10_000);
        expect(await store.acquireThreadLease("th1", "b", at(10), 10_000)).toBe(true);
        expect(await store.renewThreadLease("th1", "a", at(30))).toBe(false);
        expect(await store.renewThreadLease("th1", "b", at(30))).toBe(true);
        expect(await store.acquireThreadLease("th1", "a", at(25), 10_000)).toBe(false);
      });

      it("are given back only by their owner", async () => {
        await store.acquireThreadLease("th1", "a", at(0), 10_000);
        await store.releaseThreadLease("th1", "b");
        expect(await store.acquireThreadLease("th1", "b", at(1), 10_000)).toBe(false);
        await store.releaseThreadLease("th1", "a");
        expect(await store.acquireThreadLease("th1", "b", at(1), 10_000)).toBe(true);
      });

      it("keep held threads out of the unowned list until their lease runs out", async () => {
        await store.createThread(thread("th1"), [ciOk(), humanNeeded()], at(0));
        await store.createThread(thread("th2"), [ciOk(), humanNeeded()], at(1));
        await store.createThread(thread("th3"), [ciOk(), done()], at(2));
        await store.acquireThreadLease("th1", "a", at(3), 10_000);
        const waiting = ["waiting_for_human"] as const;
        expect((await store.unownedThreads(waiting, at(4), 10)).map((t) => t.id)).toEqual(["th2"]);
        expect((await store.unownedThreads(waiting, at(13), 10)).map((t) => t.id)).toEqual(["th1", "th2"]);
      });

      it("list unowned threads a page at a time, after a cursor", async () => {
        for (const id of ["th_a", "th_b", "th_c"])
          await store.createThread(thread(id), [ciOk(), humanNeeded()], at(0));
        const waiting = ["waiting_for_human"] as const;
        const first = await store.unownedThreads(waiting, at(1), 2);
        expect(first.map((t) => t.id)).toEqual(["th_a", "th_b"]);
        const next = await store.unownedThreads(waiting, at(1), 2, first.at(-1)!.id);
        expect(next.map((t) => t.id)).toEqual(["th_c"]);
      });
    });

    describe("references", () => {
      it("returns null for an unknown key and the latest value for a known one", async () => {
        expect(await store.getRef("approval:ap_1")).toBeNull();
        await store.setRef("approval:ap_1", "th_1", at(0));
        await store.setRef("approval:ap_1", "th_2", at(1));
        expect(await store.getRef("approval:ap_1")).toBe("th_2");
      });
    });

    describe("locks", () => {
      const key = "acme/shop:backend:production";

      it("refuses a second holder and tells it who holds the lock", async () => {
        expect(await store.acquireLock(key, { threadId: "t1", stepSeq: 4 }, at(0))).toEqual({
          acquired: true,
        });
        expect(await store.acquireLock(key, { threadId: "t2", stepSeq: 9 }, at(1))).toEqual({
          acquired: false,
          holder: { key, threadId: "t1", stepSeq: 4, acquiredAt: at(0).toISOString() },
        });
        expect(await store.getLock(key)).toMatchObject({ threadId: "t1", stepSeq: 4 });
      });

      it("lets the holding thread re-acquire it for a later step", async () => {
        await store.acquireLock(key, { threadId: "t1", stepSeq: 4 }, at(0));
        expect(await store.acquireLock(key, { threadId: "t1", stepSeq: 7 }, at(1))).toEqual({
          acquired: true,
        });
        expect(await store.getLock(key)).toMatchObject({ key, threadId: "t1", stepSeq: 7 });
        expect(await store.listLocks()).toHaveLength(1);
      });

      it("ignores a release by a thread that does not hold it", async () => {
        await store.acquireLock(key, { threadId: "t1", stepSeq: 4 }, at(0));
        await store.releaseLock(key, "t2");
        expect(await store.getLock(key)).toMatchObject({ threadId: "t1" });
        expect((await store.acquireLock(key, { threadId: "t2", stepSeq: 1 }, at(1))).acquired).toBe(false);
      });

      it("frees the lock when its holder releases it", async () => {
        await store.acquireLock(key, { threadId: "t1", stepSeq: 4 }, at(0));
        await store.acquireLock("other", { threadId: "t3", stepSeq: 2 }, at(1));
        await store.releaseLock(key, "t1");
        expect(await store.getLock(key)).toBeNull();
        expect((await store.listLocks()).map((l) => l.key)).toEqual(["other"]);
        expect(await store.acquireLock(key, { threadId: "t2", stepSeq: 1 }, at(2))).toEqual({
          acquired: true,
        });
        expect(await store.getLock(key)).toMatchObject({ threadId: "t2", acquiredAt: at(2).toISOString() });
      });
    });

    describe("deployments", () => {
      const base = {
        repo: "acme/shop",
        component: "backend",
        environment: "production",
        sha: SHA,
        threadId: "t1",
        stepSeq: 5,
        // The store stamps created_at from `now`; callers pass the same instant.
        createdAt: at(0).toISOString(),
      };

      it("records a pending deployment once and ignores a repeated id", async () => {
        await store.recordDeployment({ ...base, deploymentId: 100 }, at(0));
        await store.recordDeployment({ ...base, deploymentId: 100, sha: SHA2 }, at(1));
        expect(await store.getDeployment(100)).toEqual({
          ...base,
          deploymentId: 100,
          runId: null,
          state: "pending",
          createdAt: at(0).toISOString(),
          finishedAt: null,
        });
        expect(await store.getDeployment(101)).toBeNull();
      });

      it("finishes a deployment only once", async () => {
        await store.recordDeployment({ ...base, deploymentId: 100 }, at(0));
        expect(await store.finishDeployment(100, "success", at(5))).toBe(true);
        expect(await store.finishDeployment(100, "failure", at(6))).toBe(false);
        expect(await store.getDeployment(100)).toMatchObject({
          state: "success",
          finishedAt: at(5).toISOString(),
        });
        expect(await store.finishDeployment(999, "success", at(6))).toBe(false);
      });

      it("finds a deployment by its workflow run id and by its thread step", async () => {
        await store.recordDeployment({ ...base, deploymentId: 100 }, at(0));
        await store.recordDeployment({ ...base, deploymentId: 200, stepSeq: 9 }, at(0));
        // GitHub run ids exceed 32 bits.
        await store.setDeploymentRun(200, 12_345_678_901);
        expect(await store.getDeploymentByRun(12_345_678_901)).toMatchObject({
          deploymentId: 200,
          runId: 12_345_678_901,
        });
        expect(await store.getDeploymentByRun(1)).toBeNull();
        expect(await store.findDeploymentForStep("t1", 5)).toMatchObject({ deploymentId: 100 });
        expect(await store.findDeploymentForStep("t1", 9)).toMatchObject({ deploymentId: 200 });
        expect(await store.findDeploymentForStep("t2", 5)).toBeNull();
      });

      it("lists successful deployments of a repository newest finished first, with filters and a limit", async () => {
        const rows = [
          { deploymentId: 1, finished: 10, state: "success" as const },
          { deploymentId: 2, finished: 30, state: "success" as const, component: "frontend" },
          { deploymentId: 3, finished: 20, state: "success" as const, environment: "staging" },
          { deploymentId: 4, finished: 40, state: "failure" as const },
          { deploymentId: 5, finished: 50, state: "success" as const, repo: "acme/other" },
          { deploymentId: 6, finished: 25, state: "success" as const },
        ];
        for (const r of rows) {
          await store.recordDeployment(
            {
              ...base,
              deploymentId: r.deploymentId,
              repo: r.repo ?? base.repo,
              component: r.component ?? base.component,
              environment: r.environment ?? base.environment,
            },
            at(0),
          );
          await store.finishDeployment(r.deploymentId, r.state, at(r.finished));
        }
        await store.recordDeployment({ ...base, deploymentId: 7 }, at(60));
        const ids = async (filter: { component?: string; environment?: string; limit?: number }) =>
          (await store.successfulDeployments("acme/shop", filter)).map((d) => d.deploymentId);
        expect(await ids({})).toEqual([2, 6, 3, 1]);
        expect(await ids({ limit: 2 })).toEqual([2, 6]);
        expect(await ids({ component: "backend" })).toEqual([6, 3, 1]);
        expect(await ids({ component: "backend", environment: "production" })).toEqual([6, 1]);
        expect(await ids({ environment: "staging" })).toEqual([3]);
      });
    });
  });
}
