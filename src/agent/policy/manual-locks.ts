/**
 * Manual locks: a person holds a place ("don't deploy production, I'm migrating the database").
 * A lock holds every step to its place, rollbacks included, and break-glass does not lift it.
 * Pure: the locks are read by the caller.
 */

/** A lock a person put on an environment (`component` null: every component). */
export interface ManualLock {
  repo: string; // owner/name
  environment: string;
  component: string | null;
  reason: string;
  /** Who locked it: a GitHub login, a Slack user id or `api:<name>`. */
  by: string;
  /** When, ISO 8601. */
  at: string;
}

export interface Place {
  repo: string;
  component: string;
  environment: string;
}

export function lockCovers(lock: ManualLock, place: Place): boolean {
  return (
    lock.repo === place.repo &&
    lock.environment === place.environment &&
    (lock.component === null || lock.component === place.component)
  );
}

/** The lock that holds `place`, the oldest when several do; null when none. */
export function manualLockOn(locks: readonly ManualLock[], place: Place): ManualLock | null {
  const covering = locks.filter((lock) => lockCovers(lock, place));
  covering.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return covering[0] ?? null;
}

/** "locked by @octocat: migrating the database" (a GitHub login gets an @). */
export function manualLockText(lock: ManualLock): string {
  const who = /^([UW][A-Z0-9]{2,}|api:.*)$/.test(lock.by) ? lock.by : `@${lock.by}`;
  const what = lock.component === null ? lock.environment : `${lock.component} in ${lock.environment}`;
  return `${what} is locked by ${who}: ${lock.reason}`;
}
