import { z } from "zod";
import {
  AnswerBody,
  ApproveBody,
  CONTROL_ACTIONS,
  ControlAccepted,
  ControlBody,
  DecisionAccepted,
  LaunchAccepted,
  LaunchBody,
  ListQuery,
  LockAccepted,
  LockBody,
  LockList,
  LocksQuery,
  MAX_API_BODY_BYTES,
  Problem,
  RejectBody,
  ThreadDetail,
  ThreadList,
  UnlockBody,
} from "./api-schemas.js";

/**
 * Every operation of the REST API as data: its path, body, answers and the statuses it may give.
 * The OpenAPI document is generated from this table, and a test calls every operation and checks
 * each status code it answers, and each body, against it.
 */

type Status = 200 | 202 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 503;

export interface ApiOperation {
  method: "get" | "post" | "delete";
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
    404: "No such thread (or repository, or lock)",
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

const LOCK_OPERATIONS: ApiOperation[] = [
  {
    method: "get",
    path: "/api/v1/locks",
    summary: "List the manual locks, of one repository or all",
    authenticated: true,
    pathId: false,
    idempotencyKey: false,
    query: LocksQuery,
    responses: { 200: { description: "The locks", schema: LockList }, ...problems(401, 503) },
  },
  {
    method: "post",
    path: "/api/v1/locks",
    summary: "Lock an environment, or one component in it, with the reason",
    description:
      "Every deploy and rollback to the place waits, visibly, until it is unlocked. The environment and the " +
      "component must be in the repository's config (400 names the unknown one); the reason is required.",
    authenticated: true,
    pathId: false,
    idempotencyKey: true,
    body: { schema: LockBody, required: true },
    responses: {
      202: { description: "Queued: the worker sets the lock", schema: LockAccepted },
      ...problems(400, 401, 404, 413, 415, 422, 503),
    },
  },
  {
    method: "delete",
    path: "/api/v1/locks",
    summary: "Unlock a place; the threads it held are woken",
    authenticated: true,
    pathId: false,
    idempotencyKey: true,
    body: { schema: UnlockBody, required: true },
    responses: {
      202: { description: "Queued: the worker lifts the lock and wakes the threads", schema: LockAccepted },
      ...problems(400, 401, 404, 413, 415, 422, 503),
    },
  },
];

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
  ...LOCK_OPERATIONS,
];
