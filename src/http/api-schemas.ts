import { z } from "zod";
import { THREAD_STATUSES } from "../thread/events.js";

/**
 * The REST API's shapes and operations, in one place: the routes parse their bodies with these
 * schemas, and the OpenAPI document served at `/api/v1/openapi.json` is generated from them, so
 * the description cannot drift from the code. A test calls every operation and checks each
 * status code it answers, and each body, against this table.
 */

/** The largest JSON body the REST API reads (413 beyond it). */
export const MAX_API_BODY_BYTES = 64 * 1024;

export const LaunchBody = z
  .strictObject({
    repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name")
      .meta({ example: "acme/shop" }),
    text: z.string().trim().min(1).max(2_000).meta({ example: "deploy the frontend to staging" }),
  })
  .meta({ id: "LaunchBody" });
export const ControlBody = z
  .strictObject({ reason: z.string().trim().max(500).optional() })
  .meta({ id: "ControlBody" });
export const AnswerBody = z
  .strictObject({ answer: z.string().trim().min(1).max(2_000) })
  .meta({ id: "AnswerBody" });

export const ApproveBody = z.strictObject({}).meta({ id: "ApproveBody" });
export const RejectBody = z
  .strictObject({
    reason: z.string().trim().min(1).max(2_000).meta({ example: "deploy the frontend first" }),
  })
  .meta({ id: "RejectBody" });

export const Problem = z
  .object({ error: z.string() })
  .meta({ id: "Problem", description: "What is wrong, in words" });

export const ThreadSummary = z
  .object({
    id: z.string(),
    repo: z.string(),
    installationId: z.number().int(),
    title: z.string(),
    status: z.enum(THREAD_STATUSES),
    waitingOn: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    lastSeq: z.number().int(),
  })
  .meta({ id: "ThreadSummary" });

export const ThreadList = z.object({ threads: z.array(ThreadSummary) });

export const ThreadEventShape = z
  .object({
    seq: z.number().int(),
    at: z.iso.datetime(),
    type: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "ThreadEvent", description: "One event of a thread; `data` depends on `type`." });

export const ThreadDetail = z.object({
  thread: ThreadSummary.nullable(),
  events: z.array(ThreadEventShape),
  markdown: z.string(),
});

export const LaunchAccepted = z.object({ thread_id: z.string(), accepted: z.literal(true) });

export const CONTROL_ACTIONS = ["pause", "resume", "cancel", "answer"] as const;
export const ControlAccepted = z.object({
  thread_id: z.string(),
  action: z.enum(CONTROL_ACTIONS),
  accepted: z.literal(true),
});

export const DecisionAccepted = z.object({
  thread_id: z.string(),
  decision: z.enum(["approve", "reject"]),
  approval_id: z.string(),
  accepted: z.literal(true),
});

export const ListQuery = z.object({
  status: z.string().optional().meta({
    description: "Comma-separated statuses to keep.",
    example: "waiting_for_approval,waiting_for_human",
  }),
  repo: z.string().optional().meta({ example: "acme/shop" }),
  limit: z.number().int().min(1).max(200).default(50).optional(),
});

type Status = 200 | 202 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 503;

export interface ApiOperation {
  method: "get" | "post";
  path: string;
  summary: string;
  description?: string;
  /** false: no bearer token needed. */
  authenticated: boolean;
  pathId: boolean;
  idempotencyKey: boolean;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean };
  responses: Partial<Record<Status, { description: string; schema: z.ZodType }>>;
}

const problems = (
  ...statuses: Status[]
): Partial<Record<Status, { description: string; schema: z.ZodType }>> => {
  const descriptions: Record<number, string> = {
    400: "The request is not valid: what is wrong, by field",
    401: "Missing or unknown bearer token",
    403: "This token's name is not an approver (`api:<name>`) of the environment the thread waits for",
    404: "No such thread (or repository)",
    409: "The thread is in a state where this does not apply",
    413: `The body is larger than ${MAX_API_BODY_BYTES} bytes`,
    415: "The body is not application/json",
    422: "The Idempotency-Key was used before for a different request (another body, route or thread)",
    503: "The REST API is disabled: no DEPLOYBOT_API_TOKENS",
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: descriptions[s]!, schema: Problem }]));
};

const control = (action: (typeof CONTROL_ACTIONS)[number], summary: string, body: ApiOperation["body"]) => ({
  method: "post" as const,
  path: `/api/v1/threads/{id}/${action}`,
  summary,
  authenticated: true,
  pathId: true,
  idempotencyKey: true,
  body,
  responses: {
    202: { description: "Queued: the worker applies it to the thread", schema: ControlAccepted },
    ...problems(400, 401, 404, 409, 413, 415, 422, 503),
  },
});

const decision = (action: "approve" | "reject", summary: string, body: ApiOperation["body"]) => ({
  method: "post" as const,
  path: `/api/v1/threads/{id}/${action}`,
  summary,
  description:
    "For tokens whose name is listed as `api:<name>` among the approvers of the environment the thread " +
    "waits for. The decision is judged again when the worker applies it; the first valid decision on any " +
    "channel wins.",
  authenticated: true,
  pathId: true,
  idempotencyKey: true,
  body,
  responses: {
    202: { description: "Queued: the worker applies the decision", schema: DecisionAccepted },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
  },
});

export const API_OPERATIONS: ApiOperation[] = [
  {
    method: "get",
    path: "/api/v1/threads",
    summary: "List threads, newest first",
    authenticated: true,
    pathId: false,
    idempotencyKey: false,
    query: ListQuery,
    responses: { 200: { description: "The threads", schema: ThreadList }, ...problems(400, 401, 503) },
  },
  {
    method: "post",
    path: "/api/v1/threads",
    summary: "Start a thread from a request in words",
    description:
      "The repository must be one deploybot has seen (the app is installed and a merge arrived). The thread's " +
      "first event is the request; the decider turns it into a step, and the policy judges it as any other.",
    authenticated: true,
    pathId: false,
    idempotencyKey: true,
    body: { schema: LaunchBody, required: true },
    responses: {
      202: { description: "Queued; the thread will have this id", schema: LaunchAccepted },
      ...problems(400, 401, 404, 413, 415, 422, 503),
    },
  },
  {
    method: "get",
    path: "/api/v1/threads/{id}",
    summary: "One thread, its events and a markdown summary",
    authenticated: true,
    pathId: true,
    idempotencyKey: false,
    responses: { 200: { description: "The thread", schema: ThreadDetail }, ...problems(401, 404, 503) },
  },
  control("pause", "Pause at the next decision point (a running deploy still finishes)", {
    schema: ControlBody,
    required: false,
  }),
  control("resume", "Resume a paused thread", { schema: ControlBody, required: false }),
  control("cancel", "Cancel a thread (a running deploy still finishes and frees its lock)", {
    schema: ControlBody,
    required: false,
  }),
  control("answer", "Answer the question a thread waits on", { schema: AnswerBody, required: true }),
  decision("approve", "Approve the step the thread waits for", { schema: ApproveBody, required: false }),
  decision("reject", "Reject the step the thread waits for, with the reason it re-plans with", {
    schema: RejectBody,
    required: true,
  }),
];

type JsonSchema = Record<string, unknown>;

/** Named schemas (`.meta({ id })`) go to the document's components; a reference points there. */
function schemaOf(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, JsonSchema>,
): JsonSchema {
  const generated = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" });
  const relinked = JSON.parse(
    JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as JsonSchema & { $defs?: Record<string, JsonSchema> };
  const { $defs, $schema: _schema, id, ...rest } = relinked;
  for (const [name, definition] of Object.entries($defs ?? {})) components[name] = definition;
  if (typeof id === "string") {
    components[id] = rest;
    return { $ref: `#/components/schemas/${id}` };
  }
  return rest;
}

/** The OpenAPI 3.1 document of the REST API, generated from the schemas above. */
export function openApiDocument(): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of API_OPERATIONS) {
    const parameters: unknown[] = [];
    if (operation.pathId) {
      parameters.push({
        name: "id",
        in: "path",
        required: true,
        schema: { type: "string", example: "th_504e39edcb6cae76240c" },
      });
    }
    if (operation.idempotencyKey) {
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
          "A retried change with the same key is applied once: the same request again gets the first answer " +
          "(with the header `Idempotent-Replayed: true`); another request with the same key gets 422.",
        schema: { type: "string", pattern: "^[\\w.:-]{1,100}$" },
      });
    }
    if (operation.query) {
      const query = schemaOf(operation.query, "input", components) as {
        properties: Record<string, JsonSchema>;
      };
      for (const [name, schema] of Object.entries(query.properties)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: "query",
          required: false,
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = {
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      ...(operation.authenticated ? {} : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: operation.body.required,
              content: {
                "application/json": { schema: schemaOf(operation.body.schema, "input", components) },
              },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            content: { "application/json": { schema: schemaOf(response.schema, "output", components) } },
          },
        ]),
      ),
    };
  }
  paths["/api/v1/openapi.json"] = {
    get: {
      summary: "This document",
      security: [],
      responses: {
        200: { description: "The OpenAPI document of the REST API", content: { "application/json": {} } },
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "deploybot REST API",
      version: "1.0.0",
      description:
        "Read deploy threads, start one from words, and pause, resume, cancel or answer one. Every call needs " +
        "`Authorization: Bearer <token>`, a token from `DEPLOYBOT_API_TOKENS` (`name:token` pairs); without any " +
        "configured token the API answers 503. Changes are queued like webhooks and answered `202 Accepted`; " +
        `follow the thread with GET. JSON bodies are at most ${MAX_API_BODY_BYTES} bytes.`,
    },
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas: components },
  };
}
