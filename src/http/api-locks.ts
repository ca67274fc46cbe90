import type { IncomingMessage, ServerResponse } from "node:http";
import { lockTargetProblem } from "../config/lock-target.js";
import { MANUAL_LOCK_KINDS, type ApiLockChange } from "../pipeline/lock-commands.js";
import type { LockChange } from "../pipeline/manual-lock-changes.js";
import type { Store } from "../store/store.js";
import { configOf } from "../thread/state.js";
import type { ApiChangeDeps } from "./api-changes.js";
import { API_PREFIX, LockBody, MAX_API_BODY_BYTES, UnlockBody } from "./api-schemas.js";
import { HttpError, readJsonBody, sendJson } from "./body.js";
import { applyOnce } from "./idempotency.js";

/**
 * Manual locks over the REST API (and the dashboard's lock form): list them, lock a place, unlock
 * it. A change is checked here against the repository's config as deploybot last read it, so the
 * caller hears a mistake at once, and queued for the worker, which reads the config again.
 */

/** The config of the repository's newest thread that has one; null when no thread has. */
async function knownConfig(store: Store, repo: string) {
  for (const summary of await store.listThreads({ repo, limit: 5 })) {
    const thread = await store.getThread(summary.id);
    const config = thread ? configOf(thread.events) : null;
    if (config) return config;
  }
  return null;
}

/**
 * Checks a lock change and queues it (`api.manual_lock`); 404 for a repository deploybot has not
 * seen or a lock that is not there, 400 for a place the config does not have.
 */
export async function queueLockChange(
  deps: { store: Store; clock: () => Date },
  change: LockChange,
  deliveryId: string,
): Promise<boolean> {
  const { store } = deps;
  const installation = await store.getRef(`repo:${change.repo.toLowerCase()}`);
  const config = installation ? await knownConfig(store, change.repo) : null;
  if (!installation || !config) {
    throw new HttpError(404, `deploybot does not know ${change.repo}: install the app there and merge once`);
  }
  const problem = lockTargetProblem(config, change.environment, change.component);
  if (problem) throw new HttpError(400, problem);
  if (change.action === "unlock") {
    const locks = await store.listManualLocks(change.repo);
    const held = locks.some((l) => l.environment === change.environment && l.component === change.component);
    const place = change.component ? `${change.component} in ${change.environment}` : change.environment;
    if (!held) throw new HttpError(404, `${place} of ${change.repo} is not locked`);
  }
  return store.enqueue(
    {
      deliveryId,
      source: "api",
      kind: MANUAL_LOCK_KINDS.api,
      payload: { ...change, installation_id: Number(installation) } satisfies ApiLockChange,
      partition: change.repo,
    },
    deps.clock(),
  );
}

/** `GET /api/v1/locks[?repo=owner/name]`. */
export async function listLocks(store: Store, req: IncomingMessage, res: ServerResponse) {
  const repo = new URL(req.url ?? "/", "http://localhost").searchParams.get("repo");
  const locks = await store.listManualLocks(repo || undefined);
  return sendJson(res, 200, { locks });
}

/** `POST /api/v1/locks` (lock) and `DELETE /api/v1/locks` (unlock), once per Idempotency-Key. */
export async function changeLock(
  deps: ApiChangeDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  action: "lock" | "unlock",
) {
  const body: { repo: string; environment: string; component?: string | undefined; reason?: string } =
    action === "lock"
      ? await readJsonBody(req, LockBody, MAX_API_BODY_BYTES)
      : await readJsonBody(req, UnlockBody, MAX_API_BODY_BYTES);
  const method = action === "lock" ? "POST" : "DELETE";
  const request = { method, route: `${API_PREFIX}locks`, body };
  return applyOnce(deps, client, req, res, request, async (deliveryId) => {
    const change: LockChange = {
      action,
      repo: body.repo,
      environment: body.environment,
      component: body.component ?? null,
      reason: body.reason ?? null,
      by: `api:${client}`,
    };
    const stored = await queueLockChange(deps, change, deliveryId);
    const { repo, environment, component } = change;
    return {
      stored,
      answer: { status: 202, body: { repo, environment, component, action, accepted: true } },
    };
  });
}
