import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

const freeze = (repo: string, environment: string, component: string | null, seconds = 0) => ({
  repo,
  environment,
  component,
  reason: `freeze ${environment}`,
  by: "octocat",
  at: at(seconds),
});

/** Store behaviour beyond the first contract: group-committed inbox inserts and manual locks. */
export function describeMoreStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} (Store contract, continued)`, () => {
    let store: Store;
    // A fresh, migrated store per test; vitest runs what beforeEach returns after the test.
    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
      return () => store.close();
    });

    describe("inbox inserts arriving together", () => {
      it("store each delivery once, the repeated delivery id reporting as a duplicate", async () => {
        const entry = (deliveryId: string, n: number) =>
          store.enqueue({ deliveryId, source: "github", kind: "push", payload: { n } }, at(0));
        expect(await Promise.all([entry("d1", 1), entry("d1", 2), entry("d2", 3)])).toEqual([
          true,
          false,
          true,
        ]);
        expect(await store.inboxCounts()).toEqual({ queued: 2, done: 0, dead: 0 });
        expect((await store.claimInbox("w", at(1), 60_000))?.payload).toEqual({ n: 1 });
        expect((await store.claimInbox("w", at(1), 60_000))?.payload).toEqual({ n: 3 });
      });

      it("fail only the caller whose entry cannot be stored", async () => {
        const results = await Promise.allSettled([
          store.enqueue({ deliveryId: "ok1", source: "github", kind: "push", payload: {} }, at(0)),
          store.enqueue({ deliveryId: "bad", source: "github", kind: "push", payload: { n: 1n } }, at(0)),
          store.enqueue({ deliveryId: "ok2", source: "github", kind: "push", payload: {} }, at(0)),
        ]);
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        expect(await store.inboxCounts()).toEqual({ queued: 2, done: 0, dead: 0 });
      });
    });

    describe("manual locks", () => {
      it("are set once per repository, environment and component; a second set returns the first unchanged", async () => {
        const first = await store.setManualLock(freeze("acme/shop", "production", "backend", 1));
        expect(first).toEqual({
          created: true,
          lock: {
            repo: "acme/shop",
            environment: "production",
            component: "backend",
            reason: "freeze production",
            by: "octocat",
            at: at(1).toISOString(),
          },
        });
        const again = await store.setManualLock({
          ...freeze("acme/shop", "production", "backend", 2),
          by: "hubot",
        });
        expect(again).toEqual({ created: false, lock: first.lock });
      });

      it("tell a whole-environment lock from a component's, listed by repo, environment and component", async () => {
        await store.setManualLock(freeze("acme/web", "staging", null));
        await store.setManualLock(freeze("acme/shop", "staging", "frontend"));
        await store.setManualLock(freeze("acme/shop", "production", "backend"));
        await store.setManualLock(freeze("acme/shop", "staging", null));
        const key = (l: { repo: string; environment: string; component: string | null }) =>
          `${l.repo} ${l.environment} ${l.component ?? "*"}`;
        expect((await store.listManualLocks()).map(key)).toEqual([
          "acme/shop production backend",
          "acme/shop staging *",
          "acme/shop staging frontend",
          "acme/web staging *",
        ]);
        expect((await store.listManualLocks("acme/web")).map(key)).toEqual(["acme/web staging *"]);
      });

      it("are removed once, returning the lock removed, then null", async () => {
        const { lock } = await store.setManualLock(freeze("acme/shop", "production", null));
        await store.setManualLock(freeze("acme/shop", "production", "backend"));
        expect(await store.removeManualLock("acme/shop", "production", null)).toEqual(lock);
        expect(await store.removeManualLock("acme/shop", "production", null)).toBeNull();
        expect((await store.listManualLocks()).map((l) => l.component)).toEqual(["backend"]);
      });
    });
  });
}
