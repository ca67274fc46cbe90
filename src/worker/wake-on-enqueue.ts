import { decorateStore } from "../store/decorate-store.js";
import type { Store } from "../store/store.js";

/**
 * The store as the HTTP side uses it: an entry it queues wakes the worker of this process at once,
 * instead of at the worker's next poll (`DEPLOYBOT_WORKER_POLL_MS`). A redelivery, which stores
 * nothing, wakes nobody; other replicas still find the entry at their next poll.
 */
export function wakeOnEnqueue(store: Store, wake: () => void): Store {
  return decorateStore(store, {
    async enqueue(entry, now) {
      const stored = await store.enqueue(entry, now);
      if (stored) wake();
      return stored;
    },
  });
}
