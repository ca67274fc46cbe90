import type { Store } from "../store/store.js";

/**
 * The store as the HTTP side uses it: an entry it queues wakes the worker of this process at once,
 * instead of at the worker's next poll (`DEPLOYBOT_WORKER_POLL_MS`). A redelivery, which stores
 * nothing, wakes nobody; other replicas still find the entry at their next poll.
 */
export function wakeOnEnqueue(store: Store, wake: () => void): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "enqueue") {
        return async (...args: Parameters<Store["enqueue"]>) => {
          const stored = await target.enqueue(...args);
          if (stored) wake();
          return stored;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
