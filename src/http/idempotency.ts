import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Store } from "../store/store.js";
import { HttpError, sendJson } from "./body.js";

/**
 * `Idempotency-Key` for the REST API's changes. Per client and key, the store remembers a
 * fingerprint of the first request (method, route with the thread id, canonical body) and the
 * answer it got. The same request again gets that answer again; the same key on a different
 * request is a 422 that names the first one. The memory is a store ref, so it survives restarts
 * and holds across replicas; which of two racing requests is first is decided by the inbox, whose
 * delivery id (client and key) is unique.
 */

export const IDEMPOTENCY_KEY_PATTERN = /^[\w.:-]{1,100}$/;

/** The request a key is used for: what its fingerprint is made of. */
export interface KeyedRequest {
  method: string;
  /** The path with the thread id, e.g. `/api/v1/threads/th_1/cancel`. */
  route: string;
  /** The body as parsed by its schema (so whitespace and key order do not matter). */
  body: unknown;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const Remembered = z.object({
  fingerprint: z.string(),
  /** `POST /api/v1/threads/th_1/cancel`, to name the first request in a conflict. */
  request: z.string(),
  status: z.number().int(),
  body: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export type Remembered = z.infer<typeof Remembered>;

/** The key of a request, null without one; a malformed key is the caller's 400, not ignored. */
export function idempotencyKeyOf(req: IncomingMessage): string | null {
  const key = req.headers["idempotency-key"];
  if (key === undefined) return null;
  if (typeof key !== "string" || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new HttpError(
      400,
      "Idempotency-Key must be 1 to 100 letters, digits, '_', '.', ':' or '-', sent once",
    );
  }
  return key;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function fingerprintOf(request: KeyedRequest): string {
  return createHash("sha256")
    .update(`${request.method}\n${request.route}\n${canonicalJson(request.body)}`)
    .digest("hex");
}

function describe(request: KeyedRequest): string {
  return `${request.method} ${request.route}`;
}

/**
 * What a retry gets: the first answer when it is the same request; a 422 naming the first request
 * when the key was used for another one.
 */
export function replayOrConflict(remembered: Remembered, request: KeyedRequest, key: string): Answer {
  if (remembered.fingerprint === fingerprintOf(request)) {
    return { status: remembered.status, body: remembered.body };
  }
  const differs =
    remembered.request === describe(request)
      ? `with a different body`
      : `for ${remembered.request}, not ${describe(request)}`;
  throw new HttpError(
    422,
    `Idempotency-Key "${key}" was already used ${differs}: send a new key for a new request, or repeat the first request exactly to get its answer again`,
  );
}

function refKey(client: string, key: string): string {
  return `idem:${client}:${key}`;
}

export async function recall(store: Store, client: string, key: string): Promise<Remembered | null> {
  const value = await store.getRef(refKey(client, key));
  if (value === null) return null;
  return Remembered.parse(JSON.parse(value));
}

export async function remember(
  store: Store,
  client: string,
  key: string,
  request: KeyedRequest,
  answer: Answer,
  now: Date,
): Promise<void> {
  const remembered: Remembered = {
    fingerprint: fingerprintOf(request),
    request: describe(request),
    status: answer.status,
    body: answer.body,
    at: now.toISOString(),
  };
  await store.setRef(refKey(client, key), JSON.stringify(remembered), now);
}

/** How long a request waits for a concurrent one with its key to record its answer. */
const RACE_WAIT_MS = 1_000;

/**
 * Applies a change once per `Idempotency-Key`: a repeat of the same request gets the first answer
 * again (status and body); the key on another request is a 422. `apply` checks the request and
 * queues it under the delivery id it is given, saying whether the inbox stored it (false: a
 * request with the same key got there first).
 */
export async function applyOnce(
  deps: { store: Store; clock: () => Date },
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
