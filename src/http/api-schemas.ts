import { z } from "zod";
import { THREAD_STATUSES } from "../thread/events.js";

/**
 * The REST API's shapes: the routes parse their bodies with these schemas, and the OpenAPI
 * document served at `/api/v1/openapi.json` is generated from them (./openapi.ts), so the
 * description cannot drift from the code.
 */

/** Where the REST API's routes are. */
export const API_PREFIX = "/api/v1/";

/** The largest JSON body the REST API reads (413 beyond it). */
export const MAX_API_BODY_BYTES = 64 * 1024;

export const LaunchBody = z
  .strictObject({
    repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name")
      .meta({ example: "acme/shop" }),
    text: z.string().trim().min(1).max(2_000).meta({ example: "deploy the frontend to staging" }),
    break_glass: z
      .strictObject({
        reason: z
          .string()
          .trim()
          .min(1, "break-glass needs a reason")
          .max(500)
          .meta({ example: "checkout is down" }),
        environment: z
          .string()
          .regex(/^[a-z][a-z0-9_-]{0,39}$/, "expected an environment name")
          .optional()
          .meta({
            description: "Where to break glass; without it, wherever this token is listed",
            example: "production",
          }),
      })
      .optional()
      .meta({
        description:
          "Run the request's steps without approval, windows, freezes and bake, if this token (`api:<name>`) is listed in the environment's `break_glass`; every other rule still applies",
      }),
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

/** The quorum of the thread's pending (or last approved) approval request. */
export const ApprovalsView = z
  .object({
    approval_id: z.string(),
    pending: z.boolean(),
    approvals_required: z.number().int(),
    approvals: z.number().int(),
    approved_by: z.array(z.string()).meta({ example: ["U01APPROVER", "octocat (GitHub)"] }),
  })
  .meta({
    id: "Approvals",
    description: "How many distinct people approved the request, of how many it needs",
  });

export const ThreadDetail = z.object({
  thread: ThreadSummary.nullable(),
  events: z.array(ThreadEventShape),
  markdown: z.string(),
  approvals: ApprovalsView.nullable(),
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

// Manual locks: a person holds an environment (or one component in it) until it is unlocked.

const lockRepo = z
  .string()
  .regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name")
  .meta({ example: "acme/shop" });
const lockName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "expected a name from the repository's config");

export const UnlockBody = z
  .strictObject({
    repo: lockRepo,
    environment: lockName.meta({ example: "production" }),
    component: lockName
      .optional()
      .meta({ description: "Omit to lock the whole environment.", example: "backend" }),
  })
  .meta({ id: "UnlockBody" });

export const LockBody = UnlockBody.extend({
  reason: z
    .string()
    .trim()
    .min(1, "say why: the reason is required")
    .max(500)
    .meta({ example: "migrating the database" }),
}).meta({ id: "LockBody" });

export const ManualLockShape = z
  .object({
    repo: z.string(),
    environment: z.string(),
    component: z.string().nullable().meta({ description: "null: every component of the environment" }),
    reason: z.string(),
    by: z.string().meta({ description: "A GitHub login, a Slack user id or api:<token name>" }),
    at: z.iso.datetime(),
  })
  .meta({ id: "ManualLock" });

export const LockList = z.object({ locks: z.array(ManualLockShape) });

export const LockAccepted = z.object({
  repo: z.string(),
  environment: z.string(),
  component: z.string().nullable(),
  action: z.enum(["lock", "unlock"]),
  accepted: z.literal(true),
});

export const LocksQuery = z.object({ repo: z.string().optional().meta({ example: "acme/shop" }) });
