/**
 * The keys a deferred step (`step_deferred.lock_key`) waits on when no deploy lock holds it: a
 * manual lock, a closed window or freeze, a bake, a verification. A key says what to wake the
 * thread for; the status shows the step's reason for these instead of the key.
 */

export const HOLD_PREFIXES = ["manual", "window", "bake", "verify"] as const;
export type HoldKind = (typeof HOLD_PREFIXES)[number];

/** A step held by a manual lock on its place (the lock may cover every component). */
export function manualLockWaitKey(repo: string, component: string, environment: string): string {
  return `manual:${repo}:${component}:${environment}`;
}

/** A deploy held until the environment's window opens or its freeze ends. */
export function windowWaitKey(repo: string, environment: string): string {
  return `window:${repo}:${environment}`;
}

/** A promotion waiting for the previous environment's bake time. */
export function bakeWaitKey(repo: string, component: string, environment: string): string {
  return `bake:${repo}:${component}:${environment}`;
}

/** A promotion waiting for the verification of the commit in the previous environment. */
export function verifyWaitKey(repo: string, component: string, environment: string, sha: string): string {
  return `verify:${repo}:${component}:${environment}:${sha}`;
}

/** What holds a step deferred on `key`, when it is one of these holds; null for a deploy lock or CI. */
export function holdOfKey(key: string): HoldKind | null {
  const prefix = key.slice(0, key.indexOf(":"));
  return (HOLD_PREFIXES as readonly string[]).includes(prefix) ? (prefix as HoldKind) : null;
}
