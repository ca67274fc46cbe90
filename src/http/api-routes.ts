import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteHandler } from "../app.js";
import type { Log } from "../log.js";
import { ApiControl } from "../pipeline/api-inbox.js";
import { THREAD_STATUSES, type ThreadStatus } from "../thread/events.js";
import { control, decide, launch, type ApiChangeDeps } from "./api-changes.js";
import { changeLock, listLocks } from "./api-locks.js";
import { API_PREFIX } from "./api-schemas.js";
import { decodePathSegment, HttpError, pathOf, sendJson } from "./body.js";
import { openApiDocument } from "./openapi.js";
import { approvalsView, renderMarkdown } from "./thread-markdown.js";

/**
 * The REST API (`/api/v1`, described by `/api/v1/openapi.json`, generated from ./api-operations.ts):
 * read threads, launch one from words, pause, resume, cancel, answer; list, set and lift manual locks. Every call carries a bearer
 * token from DEPLOYBOT_API_TOKENS; reads answer from the store, and every change goes through the
 * inbox like a webhook (202 Accepted), once per `Idempotency-Key` (see idempotency.ts).
 */

export interface ApiRouteDeps extends ApiChangeDeps {
  /** token -> client name */
  tokens: ReadonlyMap<string, string>;
  log: Log;
}

function authenticate(req: IncomingMessage, tokens: ReadonlyMap<string, string>): string {
  if (tokens.size === 0) throw new HttpError(503, "the REST API is disabled: set DEPLOYBOT_API_TOKENS");
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, "missing bearer token (Authorization: Bearer <token>)");
  const given = Buffer.from(match[1]!);
  for (const [token, name] of tokens) {
    const expected = Buffer.from(token);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return name;
  }
  throw new HttpError(401, "unknown token");
}

export function apiRoutes(deps: ApiRouteDeps): RouteHandler {
  return async (req, res) => {
    const path = pathOf(req);
    if (!path.startsWith(API_PREFIX)) return false;
    if (path === `${API_PREFIX}openapi.json` && req.method === "GET") {
      sendJson(res, 200, openApiDocument());
      return true;
    }
    try {
      const client = authenticate(req, deps.tokens);
      const parts = path.slice(API_PREFIX.length).split("/").map(decodePathSegment);
      await route(deps, client, req, res, parts);
    } catch (error) {
      if (res.headersSent) return true;
      if (error instanceof HttpError) sendJson(res, error.status, { error: error.message });
      else {
        deps.log.error({ path }, `API request failed: ${String(error)}`);
        sendJson(res, 500, { error: "internal error" });
      }
    }
    return true;
  };
}

async function route(
  deps: ApiRouteDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  parts: string[],
) {
  const [collection, id, action, ...rest] = parts;
  if (collection === "locks" && id === undefined) return lockRoute(deps, client, req, res);
  if (collection !== "threads" || rest.length > 0)
    throw new HttpError(404, `no route for ${req.method} ${pathOf(req)}`);
  const method = req.method ?? "GET";

  if (!id) {
    if (method === "GET") return listThreads(deps, req, res);
    if (method === "POST") return launch(deps, client, req, res);
    throw new HttpError(405, "use GET or POST on /api/v1/threads");
  }
  if (!action) {
    if (method !== "GET") throw new HttpError(405, "use GET on /api/v1/threads/{id}");
    const thread = await deps.store.getThread(id);
    if (!thread) throw new HttpError(404, `no thread ${id}`);
    const summary = await deps.store.getThreadSummary(id);
    return sendJson(res, 200, {
      thread: summary,
      events: thread.events,
      markdown: renderMarkdown(thread),
      approvals: approvalsView(thread),
    });
  }
  if (method !== "POST") throw new HttpError(405, `use POST on /api/v1/threads/{id}/${action}`);
  if (action === "approve" || action === "reject") return decide(deps, client, req, res, id, action);
  const controlAction = ApiControl.shape.action.safeParse(action);
  if (!controlAction.success) throw new HttpError(404, `no action ${action}`);
  return control(deps, client, req, res, id, controlAction.data);
}

async function lockRoute(deps: ApiRouteDeps, client: string, req: IncomingMessage, res: ServerResponse) {
  if (req.method === "GET") return listLocks(deps.store, req, res);
  if (req.method === "POST") return changeLock(deps, client, req, res, "lock");
  if (req.method === "DELETE") return changeLock(deps, client, req, res, "unlock");
  throw new HttpError(405, "use GET, POST or DELETE on /api/v1/locks");
}

async function listThreads(deps: ApiRouteDeps, req: IncomingMessage, res: ServerResponse) {
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  const statuses = (query.get("status") ?? "").split(",").filter(Boolean);
  const unknown = statuses.filter((s) => !THREAD_STATUSES.includes(s as ThreadStatus));
  if (unknown.length > 0)
    throw new HttpError(400, `unknown status ${unknown.join(", ")}; known: ${THREAD_STATUSES.join(", ")}`);
  const limit = Math.min(200, Math.max(1, Number(query.get("limit") ?? 50) || 50));
  const threads = await deps.store.listThreads({
    ...(statuses.length > 0 ? { status: statuses as ThreadStatus[] } : {}),
    ...(query.get("repo") ? { repo: query.get("repo")! } : {}),
    limit,
  });
  return sendJson(res, 200, { threads });
}
