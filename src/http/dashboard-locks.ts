import { randomUUID } from "node:crypto";
import { placeText } from "../github/lock-command.js";
import type { ManualLock } from "../store/store.js";
import { queueLockChange } from "./api-locks.js";
import { HttpError } from "./body.js";
import { escapeHtml, timeTag } from "./dashboard-html.js";
import type { Store } from "../store/store.js";
import { clip } from "../thread/text.js";

/**
 * The overview's manual locks: who locked which place, why and since when, with an unlock button,
 * and a small form to lock a place. The forms post to `/threads/locks/lock` and `/unlock`, are
 * checked like the REST API's changes, and go to the inbox in the signed-in token's name.
 */

export const LOCK_ACTIONS = ["lock", "unlock"] as const;
export type LockAction = (typeof LOCK_ACTIONS)[number];

export const LOCK_DONE_NOTES: Record<LockAction, string> = {
  lock: "Lock sent: deploys and rollbacks there wait until it is unlocked.",
  unlock: "Unlock sent: the threads it held move on.",
};

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
}

function who(by: string): string {
  return /^([UW][A-Z0-9]{2,}|api:.*)$/.test(by) ? by : `@${by}`;
}

/** The section of one repository: its locks and the lock form. */
export function renderLocks(
  repo: string,
  places: { components: string[]; environments: string[] },
  locks: readonly ManualLock[],
  now: Date,
  csrf: string | null,
): string {
  const slug = repo.replace(/[^\w-]/g, "-");
  const unlock = (lock: ManualLock) =>
    csrf === null
      ? ""
      : `<form method="post" action="/threads/locks/unlock" class="inline">${hidden("csrf", csrf)}${hidden("repo", repo)}${hidden("environment", lock.environment)}${lock.component ? hidden("component", lock.component) : ""}<button type="submit">Unlock</button></form>`;
  const items = locks.map(
    (lock) =>
      `<li><strong>${escapeHtml(placeText(lock.environment, lock.component))}</strong> locked by ${escapeHtml(who(lock.by))} ${timeTag(lock.at, now)}: ${escapeHtml(lock.reason)} ${unlock(lock)}</li>`,
  );
  const list = items.length ? `<ul>${items.join("")}</ul>` : `<p class="muted">No manual locks.</p>`;
  const option = (value: string, text: string) =>
    `<option value="${escapeHtml(value)}">${escapeHtml(text)}</option>`;
  const form =
    csrf === null
      ? ""
      : `<form method="post" action="/threads/locks/lock" class="filters" aria-label="Lock a place of ${escapeHtml(repo)}">${hidden("csrf", csrf)}${hidden("repo", repo)}
<div><label for="lock-env-${slug}">Environment</label><select id="lock-env-${slug}" name="environment">${places.environments.map((e) => option(e, e)).join("")}</select></div>
<div><label for="lock-comp-${slug}">Component</label><select id="lock-comp-${slug}" name="component">${option("", "every component")}${places.components.map((c) => option(c, c)).join("")}</select></div>
<div><label for="lock-reason-${slug}">Reason</label><input id="lock-reason-${slug}" name="reason" required maxlength="500"></div>
<button type="submit" class="danger">Lock</button></form>`;
  return `<h3>Manual locks</h3>${list}${form}`;
}

/** A lock form's post, checked and queued; throws HttpError with what is wrong. */
export async function queueLockForm(
  deps: { store: Store; clock: () => Date },
  action: LockAction,
  form: URLSearchParams,
  client: string,
): Promise<void> {
  const repo = form.get("repo") ?? "";
  const environment = form.get("environment") ?? "";
  const component = form.get("component") || null;
  const reason = clip((form.get("reason") ?? "").trim(), 500);
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || environment === "") {
    throw new HttpError(400, "the form names no repository or environment: reload the overview");
  }
  if (action === "lock" && reason === "")
    throw new HttpError(400, "say why you lock it: the reason is required");
  await queueLockChange(
    deps,
    { action, repo, environment, component, reason: action === "lock" ? reason : null, by: `api:${client}` },
    `dashboard:${randomUUID()}`,
  );
}
