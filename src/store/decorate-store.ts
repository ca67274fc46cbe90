import type { Store } from "./store.js";

/**
 * A store with some of its methods replaced (to count, to notify); every other call goes to the
 * store itself, bound to it.
 */
export function decorateStore(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === "string" && property in overrides) return overrides[property as keyof Store];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
