import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { RouteHandler } from "../app.js";
import type { Log } from "../log.js";
import type { Store } from "../store/store.js";
import { THREAD_STATUSES, type ThreadStatus } from "../thread/events.js";
import { renderMarkdown } from "./thread-markdown.js";
import { configOf, deriveState } from "../thread/state.js";
import { deployActionOf } from "../thread/next-step.js";
import { API_DECISION_KIND, approverVerdict, type ApiDecision } from "../pipeline/approvals.js";
import {
  AnswerBody,
  ApproveBody,
  ControlBody,
  LaunchBody,
  MAX_API_BODY_BYTES,
  openApiDocument,
  RejectBody,
} from "./api-schemas.js";
import { decodePathSegment, HttpError, mediaType, pathOf, readBody, sendJson } from "./body.js";
import {
  idempotencyKeyOf,
  recall,
  remember,
  replayOrConflict,
  type Answer,
  type KeyedRequest,
  type Remembered,
} from "./idempotency.js";

/**
 * The REST API (`/api/v1`, described by `/api/v1/openapi.json`, generated from ./api-schemas.ts):
 * read threads, launch one from words, pause, resume, cancel, answer. Every call carries a bearer
 * token from DEPLOYBOT_API_TOKENS; reads answer from the store, and every change goes through the
 * inbox like a webhook (202 Accepted), once per `Idempotency-Key` (see idempotency.ts).
 */

export interface ApiRouteDeps {
  store: Store;
  clock: () => Date;
  /** token -> client name */
  tokens: ReadonlyMap<string, string>;
  log: Log;
  /**
   * Launches for repositories deploybot has not seen yet are queued, and the worker asks GitHub
   * for the app's installation there; without it, such a launch is a 404.
   */
  lookUpInstallations?: boolean;
}

const PREFIX = "/api/v1/";

/** The thread a launch creates: known before the worker runs, so the caller can follow it. */
export function threadIdForLaunch(deliveryId: string): string {
  return `th_${createHash("sha256").update(deliveryId).digest("hex").slice(0, 20)}`;
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

async function jsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(req, MAX_API_BODY_BYTES);
  if (raw.length === 0) return schema.parse({});
  if (mediaType(req) !== "application/json") throw new HttpError(415, "expected application/json");
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    throw new HttpError(400, `invalid body: ${problems.join("; ")}`);
  }
  return result.data;
}

export function apiRoutes(deps: ApiRouteDeps): RouteHandler {
  return async (req, res) => {
    const path = pathOf(req);
    if (!path.startsWith(PREFIX)) return false;
    if (path === `${PREFIX}openapi.json` && req.method === "GET") {
      sendJson(res, 200, openApiDocument());
      return true;
    }
    try {
      const client = authenticate(req, deps.tokens);
      const parts = path.slice(PREFIX.length).split("/").map(decodePathSegment);
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
    return sendJson(res, 200, { thread: summary, events: thread.events, markdown: renderMarkdown(thread) });
  }
  if (method !== "POST") throw new HttpError(405, `use POST on /api/v1/threads/{id}/${action}`);
  if (action === "approve" || action === "reject") return decide(deps, client, req, res, id, action);
  if (!["pause", "resume", "cancel", "answer"].includes(action))
    throw new HttpError(404, `no action ${action}`);
  const body = action === "answer" ? await jsonBody(req, AnswerBody) : await jsonBody(req, ControlBody);
  const request = { method, route: `${PREFIX}threads/${id}/${action}`, body };
  return once(deps, client, req, res, request, async (deliveryId) => {
    const thread = await deps.store.getThread(id);
    if (!thread) throw new HttpError(404, `no thread ${id}`);
    const state = deriveState(thread.events);
    if (state.terminal) throw new HttpError(409, `thread ${id} is ${state.status}`);
    let payload: Record<string, unknown>;
    if ("answer" in body) {
      if (!state.pendingQuestion)
        throw new HttpError(409, `thread ${id} is not waiting for an answer (${state.status})`);
      payload = { thread_id: id, action, client, answer: body.answer };
    } else {
      if (action === "resume" && !state.paused) throw new HttpError(409, `thread ${id} is not paused`);
      if (action === "pause" && state.paused) throw new HttpError(409, `thread ${id} is already paused`);
      payload = { thread_id: id, action, client, reason: body.reason ?? null };
    }
    const stored = await deps.store.enqueue(
      { deliveryId, source: "api", kind: "api.control", payload },
      deps.clock(),
    );
    return { stored, answer: { status: 202, body: { thread_id: id, action, accepted: true } } };
  });
}

/** How long a request waits for a concurrent one with its key to record its answer. */
const RACE_WAIT_MS = 1_000;

/**
 * Applies a change once per `Idempotency-Key`: a repeat of the same request gets the first answer
 * again (status and body); the key on another request is a 422. `apply` checks the request and
 * queues it under the delivery id it is given, saying whether the inbox stored it (false: a
 * request with the same key got there first).
 */
async function once(
  deps: ApiRouteDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  request: KeyedRequest,
  apply: (deliveryId: string) => Promise<{ stored: boolean; answer: Answer }>,
): Promise<void> {
  const key = idempotencyKeyOf(req);
  if (key === null) {
    const { answer } = await apply(`api:${randomUUID()}`);
    return sendJson(res, answer.status, answer.body);
  }
  const replay = (remembered: Remembered) => {
    const answer = replayOrConflict(remembered, request, key);
    res.setHeader("idempotent-replayed", "true");
    sendJson(res, answer.status, answer.body);
  };
  const seen = await recall(deps.store, client, key);
  if (seen) return replay(seen);
  const { stored, answer } = await apply(`api:${client}:${key}`);
  if (stored) {
    await remember(deps.store, client, key, request, answer, deps.clock());
    return sendJson(res, answer.status, answer.body);
  }
  // Another request with this key (on this replica or another) was queued first: its answer is
  // the one to give, once it is recorded.
  for (let waited = 0; waited < RACE_WAIT_MS; waited += 50) {
    const first = await recall(deps.store, client, key);
    if (first) return replay(first);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new HttpError(
    409,
    `a request with Idempotency-Key "${key}" is still being handled: retry it shortly`,
  );
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

async function launch(deps: ApiRouteDeps, client: string, req: IncomingMessage, res: ServerResponse) {
  const body = await jsonBody(req, LaunchBody);
  const request = { method: "POST", route: `${PREFIX}threads`, body };
  return once(deps, client, req, res, request, async (deliveryId) => {
    const installation = await deps.store.getRef(`repo:${body.repo.toLowerCase()}`);
    if (!installation && !deps.lookUpInstallations) {
      throw new HttpError(404, `deploybot does not know ${body.repo}: install the app there and merge once`);
    }
    const threadId = threadIdForLaunch(deliveryId);
    const stored = await deps.store.enqueue(
      {
        deliveryId,
        source: "api",
        kind: "api.launch",
        payload: {
          thread_id: threadId,
          repo: body.repo,
          installation_id: installation ? Number(installation) : null,
          text: body.text,
          client,
        },
      },
      deps.clock(),
    );
    return { stored, answer: { status: 202, body: { thread_id: threadId, accepted: true } } };
  });
}

/**
 * `POST /api/v1/threads/{id}/approve` and `/reject`: for tokens listed as `api:<name>` approvers of
 * the environment the thread waits on. Checked here so the caller hears a refusal at once; the
 * worker judges the decision again as of when it was received (the first valid decision wins).
 */
async function decide(
  deps: ApiRouteDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  decision: "approve" | "reject",
) {
  const body = decision === "reject" ? await jsonBody(req, RejectBody) : await jsonBody(req, ApproveBody);
  const request = { method: "POST", route: `${PREFIX}threads/${id}/${decision}`, body };
  return once(deps, client, req, res, request, async (deliveryId) => {
    const thread = await deps.store.getThread(id);
    if (!thread) throw new HttpError(404, `no thread ${id}`);
    const state = deriveState(thread.events);
    if (state.terminal) throw new HttpError(409, `thread ${id} is ${state.status}`);
    const pending = state.pendingApproval;
    const action = pending ? deployActionOf(pending.data.step) : null;
    const config = configOf(thread.events);
    if (!pending || !action || !config)
      throw new HttpError(409, `thread ${id} is not waiting for an approval (${state.status})`);
    const verdict = approverVerdict({
      config,
      environment: action.environment,
      decider: { channel: "api", client },
      decision,
      prAuthor: null,
    });
    if (!verdict.ok) throw new HttpError(403, verdict.reason);
    const payload: ApiDecision = {
      thread_id: id,
      decision,
      reason: "reason" in body ? body.reason : null,
      client,
      channel: "api",
      received_at: deps.clock().toISOString(),
    };
    const stored = await deps.store.enqueue(
      { deliveryId, source: "api", kind: API_DECISION_KIND, payload },
      deps.clock(),
    );
    return {
      stored,
      answer: {
        status: 202,
        body: { thread_id: id, decision, approval_id: pending.data.approval_id, accepted: true },
      },
    };
  });
}
