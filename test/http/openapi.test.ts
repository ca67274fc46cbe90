import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { API_OPERATIONS } from "../../src/http/api-operations.js";
import { MAX_API_BODY_BYTES } from "../../src/http/api-schemas.js";
import { openApiDocument } from "../../src/http/openapi.js";
import { newEvent } from "../../src/thread/events.js";
import { API_TOKEN, startAppServer, type AppServer } from "../helpers/app-server.js";
import { httpRequest } from "../helpers/http.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";
import { deployStep, mergeStart, on } from "../helpers/thread-builder.js";

/**
 * The OpenAPI document against the running API: every documented operation answers every
 * documented status code, with a body of the documented shape, and nothing else is served.
 */

const OPEN = "th_open";
/** Waits for an approval of production, where the token named `ci` is an approver (`api:ci`). */
const AWAITING = "th_awaiting";
const NOT_AN_APPROVER = "api-token-of-an-intern-0123456789";
const FAILED = "th_failed";
const T0 = new Date("2026-11-24T12:00:00Z");

type Call = {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  server?: "disabled";
  /** Sent first (its answer is not checked). */
  before?: Call;
};

const json = (value: unknown) => ({
  body: JSON.stringify(value),
  headers: { "content-type": "application/json" },
});
const oversized = () => ({
  body: JSON.stringify({ text: "x".repeat(MAX_API_BODY_BYTES) }),
  headers: { "content-type": "application/json" },
});
const notJson = { body: "reason=later", headers: { "content-type": "application/x-www-form-urlencoded" } };

/** A request that makes a lock operation answer `status` (production of acme/shop is locked). */
function lockCallFor(method: string, path: string, status: number): Call | null {
  if (!path.endsWith("/locks")) return null;
  const place = { repo: "acme/shop", environment: method === "POST" ? "staging" : "production" };
  const valid = json(method === "POST" ? { ...place, reason: "migrating the database" } : place);
  switch (status) {
    case 202:
      return { method, path, ...valid };
    case 400:
      return { method, path, ...json({ ...place, environment: "qa", reason: "because" }) };
    case 404:
      // A repository deploybot does not know; to unlock, a place that is not locked.
      return method === "POST"
        ? { method, path, ...json({ ...place, repo: "acme/unknown", reason: "because" }) }
        : { method, path, ...json({ ...place, environment: "staging" }) };
    case 422: {
      const key = { "idempotency-key": `openapi-422-${method}-locks` };
      const other = json({ ...place, component: "frontend", ...(method === "POST" ? { reason: "x" } : {}) });
      return {
        method,
        path,
        body: other.body,
        headers: { ...other.headers, ...key },
        before: { method, path, body: valid.body, headers: { ...valid.headers, ...key } },
      };
    }
    default:
      return null;
  }
}

/** A request that makes `operation` answer `status`. */
function callFor(method: string, path: string, status: number): Call {
  const lockCall = lockCallFor(method, path, status);
  if (lockCall) return lockCall;
  const concrete = (id: string) => path.replace("{id}", id);
  const action = path.split("/").at(-1)!;
  const decides = action === "approve" || action === "reject";
  const validBody =
    action === "answer"
      ? json({ answer: "yes" })
      : action === "approve"
        ? json({})
        : path.endsWith("/threads")
          ? json({ repo: "acme/shop", text: "deploy it" })
          : json({ reason: "because" });
  switch (status) {
    case 200:
      return { method, path: concrete(OPEN) };
    case 202:
      // An answer needs a pending question, which the open thread has; resume needs a paused thread.
      return {
        method,
        path: concrete(action === "resume" ? "th_paused" : decides ? AWAITING : OPEN),
        ...validBody,
      };
    case 400:
      return method === "GET"
        ? { method, path: `${path}?status=sleeping` }
        : {
            method,
            path: concrete(OPEN),
            body: "{not json",
            headers: { "content-type": "application/json" },
          };
    case 401:
      return { method, path: concrete(OPEN), headers: { authorization: "Bearer not-a-known-token-0123" } };
    case 403:
      return {
        method,
        path: concrete(AWAITING),
        ...validBody,
        headers: { ...validBody.headers, authorization: `Bearer ${NOT_AN_APPROVER}` },
      };
    case 404:
      return path.endsWith("/threads")
        ? { method, path, ...json({ repo: "acme/unknown", text: "deploy it" }) }
        : { method, path: concrete("th_missing"), ...(method === "POST" ? validBody : {}) };
    case 409:
      return { method, path: concrete(FAILED), ...validBody };
    case 413:
      return { method, path: concrete(OPEN), ...oversized() };
    case 415:
      return { method, path: concrete(OPEN), ...notJson };
    case 422: {
      // The same Idempotency-Key, first with one body, then with another.
      const target = concrete(action === "resume" ? "th_paused" : decides ? AWAITING : OPEN);
      const key = { "idempotency-key": `openapi-422-${method}-${action}` };
      if (action === "approve") {
        // Its body is always empty: the same key on another thread is the other request.
        return {
          method,
          path: concrete(OPEN),
          ...validBody,
          headers: { ...validBody.headers, ...key },
          before: { method, path: target, body: validBody.body, headers: { ...validBody.headers, ...key } },
        };
      }
      const other =
        action === "answer"
          ? json({ answer: "no" })
          : path.endsWith("/threads")
            ? json({ repo: "acme/shop", text: "deploy something else" })
            : json({ reason: "another reason" });
      return {
        method,
        path: target,
        body: other.body,
        headers: { ...other.headers, ...key },
        before: { method, path: target, body: validBody.body, headers: { ...validBody.headers, ...key } },
      };
    }
    case 503:
      return { method, path: concrete(OPEN), server: "disabled" };
    default:
      throw new Error(`no request makes ${method} ${path} answer ${status}: add one here`);
  }
}

let app: AppServer;
let disabled: AppServer;

beforeAll(async () => {
  app = await startAppServer({
    apiTokens: new Map([
      [API_TOKEN, "ci"],
      [NOT_AN_APPROVER, "intern"],
    ]),
  });
  disabled = await startAppServer({ apiTokens: new Map() });
  await app.store.setRef("repo:acme/shop", "4242", T0);
  await app.store.setManualLock({
    repo: "acme/shop",
    environment: "production",
    component: null,
    reason: "migrating the database",
    by: "octocat",
    at: T0,
  });
  const thread = (id: string) => ({ id, repo: "acme/shop", installationId: 4242, title: id });
  await app.store.createThread(
    thread(OPEN),
    [...mergeStart(), newEvent("human_needed", { question: "which first?", reason: "unsure" })],
    T0,
  );
  await app.store.createThread(
    thread(AWAITING),
    [
      on.prMerged(),
      on.configLoaded(CONFIG_YAML.replace("approvers: [U01APPROVER", "approvers: [api:ci, U01APPROVER")),
      on.changes({ backend: ["api/cart.ts"] }),
      on.approvalRequested(deployStep("backend", "production")),
    ],
    T0,
  );
  await app.store.createThread(
    thread("th_paused"),
    [...mergeStart(), newEvent("paused", { by: "ci", reason: null })],
    T0,
  );
  await app.store.createThread(
    thread(FAILED),
    [...mergeStart(), newEvent("failed", { reason: "broken" })],
    T0,
  );
});

afterAll(async () => {
  await app.stop();
  await disabled.stop();
});

async function send(call: Call): ReturnType<typeof httpRequest> {
  if (call.before) await send(call.before);
  const server = call.server === "disabled" ? disabled : app;
  return httpRequest(`${server.base}${call.path}`, {
    method: call.method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...call.headers },
    ...(call.body !== undefined ? { body: call.body } : {}),
  });
}

describe("the OpenAPI document", () => {
  it("is served at /api/v1/openapi.json without a token, as generated from the route schemas", async () => {
    const response = await httpRequest(`${app.base}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual(openApiDocument());
  });

  const cases = API_OPERATIONS.flatMap((operation) =>
    Object.entries(operation.responses).map(([status, response]) => ({
      operation,
      status: Number(status),
      schema: response.schema,
    })),
  );
  it.each(
    cases.map((c) => [`${c.operation.method.toUpperCase()} ${c.operation.path}`, c.status, c] as const),
  )("%s answers %i with the documented body", async (_name, status, { operation, schema }) => {
    const response = await send(callFor(operation.method.toUpperCase(), operation.path, status));
    expect(response.status).toBe(status);
    const parsed = (schema as z.ZodType).safeParse(JSON.parse(response.body));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it("lists every operation the API serves, and the API serves no other", async () => {
    const documented = Object.entries(openApiDocument().paths as Record<string, object>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        "GET /api/v1/openapi.json",
        "GET /api/v1/threads",
        "POST /api/v1/threads",
        "GET /api/v1/threads/{id}",
        "POST /api/v1/threads/{id}/pause",
        "POST /api/v1/threads/{id}/resume",
        "POST /api/v1/threads/{id}/cancel",
        "POST /api/v1/threads/{id}/answer",
        "POST /api/v1/threads/{id}/approve",
        "POST /api/v1/threads/{id}/reject",
        "GET /api/v1/locks",
        "POST /api/v1/locks",
        "DELETE /api/v1/locks",
      ].sort(),
    );
    expect((await send({ method: "DELETE", path: "/api/v1/threads" })).status).toBe(405);
    expect((await send({ method: "POST", path: `/api/v1/threads/${OPEN}/restart` })).status).toBe(404);
    expect((await send({ method: "GET", path: "/api/v1/deployments" })).status).toBe(404);
  });

  it("shows the body resume takes", () => {
    const resume = (openApiDocument().paths as Record<string, Record<string, { requestBody?: unknown }>>)[
      "/api/v1/threads/{id}/resume"
    ];
    expect(resume?.post?.requestBody).toMatchObject({
      required: false,
      content: { "application/json": { schema: { $ref: "#/components/schemas/ControlBody" } } },
    });
  });
});
