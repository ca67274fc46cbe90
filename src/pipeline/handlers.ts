import type { z } from "zod";
import {
  DeploymentCreatedHook,
  DeploymentProtectionRuleRequested,
  DeploymentStatusCreated,
  IssueCommentCreated,
  PullRequestClosed,
  WorkflowRunCompleted,
} from "../github/webhooks.js";
import type { InboxEntry } from "../store/store.js";
import { adoptDeployment } from "./adopt-deployment.js";
import { API_KINDS, ApiControl, ApiLaunch, controlFromApi, launchFromApi } from "./api-inbox.js";
import { API_DECISION_KIND, ApiDecision, decideFromApi } from "./approvals.js";
import { deploymentStatusCreated, workflowRunCompleted, type ResultDeps } from "./deploy-results.js";
import { reviewDeploymentGate } from "./deployment-gate.js";
import { ingestMerge } from "./ingest.js";
import { INTERNAL_KINDS, LockReleased, SupersedeThread, WakeThread } from "./internal-entries.js";
import { handleLockReleased, supersedeThread, wakeThread } from "./lock-wake.js";
import {
  ApiLockChange,
  lockFromApi,
  lockFromSlack,
  MANUAL_LOCK_KINDS,
  SlackLockRequest,
} from "./lock-commands.js";
import { handlePrComment } from "./pr-commands.js";
import {
  ApprovalClick,
  decideApproval,
  handleSlackEvent,
  handleSlashRequest,
  Rejection,
  SlackEvent,
  SLACK_KINDS,
  SlashRequest,
} from "./slack-inbox.js";

/**
 * Every kind of inbox entry deploybot handles: the schema its payload must match and the domain
 * call it goes to. The worker reads this table; the HTTP side learns from it which GitHub events
 * are handled, and compacts each webhook to what its handler reads.
 */

export type HandlerDeps = ResultDeps;

export interface EntryHandler {
  schema: z.ZodType;
  /** Handles a parsed payload; returns a short note of what happened. */
  handle(deps: HandlerDeps, payload: unknown, entry: InboxEntry): Promise<string>;
}

function handler<S extends z.ZodType>(
  schema: S,
  handle: (deps: HandlerDeps, payload: z.output<S>, entry: InboxEntry) => Promise<string>,
): EntryHandler {
  return { schema, handle: handle as EntryHandler["handle"] };
}

/** The GitHub webhooks, by `event.action`. */
const WEBHOOK_HANDLERS = {
  "pull_request.closed": handler(PullRequestClosed, async (deps, payload) => {
    const outcome = await ingestMerge(deps, payload);
    return outcome.kind === "skipped" ? `skipped: ${outcome.reason}` : `thread ${outcome.threadId}`;
  }),
  "deployment_status.created": handler(DeploymentStatusCreated, deploymentStatusCreated),
  "workflow_run.completed": handler(WorkflowRunCompleted, workflowRunCompleted),
  "issue_comment.created": handler(IssueCommentCreated, handlePrComment),
  "deployment.created": handler(DeploymentCreatedHook, adoptDeployment),
  "deployment_protection_rule.requested": handler(DeploymentProtectionRuleRequested, reviewDeploymentGate),
};

export type WebhookKind = keyof typeof WEBHOOK_HANDLERS;

/** The GitHub events deploybot subscribes to, as `event.action`. */
export const WEBHOOK_KINDS = Object.keys(WEBHOOK_HANDLERS) as WebhookKind[];

export const ENTRY_HANDLERS: Readonly<Record<string, EntryHandler>> = {
  ...WEBHOOK_HANDLERS,
  [API_DECISION_KIND]: handler(ApiDecision, decideFromApi),
  [API_KINDS.launch]: handler(ApiLaunch, launchFromApi),
  [API_KINDS.control]: handler(ApiControl, controlFromApi),
  [SLACK_KINDS.approve]: handler(ApprovalClick, (deps, click) =>
    decideApproval(deps, {
      approvalId: click.approval_id,
      user: click.user,
      channel: click.channel,
      decision: "approve",
      ...(click.clicked_at ? { clickedAt: click.clicked_at } : {}),
    }),
  ),
  [SLACK_KINDS.reject]: handler(Rejection, (deps, rejection) =>
    decideApproval(deps, {
      approvalId: rejection.approval_id,
      user: rejection.user,
      channel: null,
      decision: "reject",
      reason: rejection.reason,
      ...(rejection.clicked_at ? { clickedAt: rejection.clicked_at } : {}),
    }),
  ),
  [SLACK_KINDS.event]: handler(SlackEvent, handleSlackEvent),
  [SLACK_KINDS.command]: handler(SlashRequest, (deps, request, entry) =>
    handleSlashRequest(deps, request, entry.deliveryId),
  ),
  [MANUAL_LOCK_KINDS.api]: handler(ApiLockChange, lockFromApi),
  [MANUAL_LOCK_KINDS.slack]: handler(SlackLockRequest, lockFromSlack),
  [INTERNAL_KINDS.lockReleased]: handler(LockReleased, (deps, released, entry) =>
    handleLockReleased(deps, released, entry.deliveryId),
  ),
  [INTERNAL_KINDS.wake]: handler(WakeThread, wakeThread),
  [INTERNAL_KINDS.supersede]: handler(SupersedeThread, supersedeThread),
};

/**
 * What the inbox keeps of a webhook: what its handler reads (a few hundred bytes) instead of the
 * raw payload (tens of kilobytes); a payload that does not parse is kept as it came, and the
 * worker sets it aside with the reason.
 */
export function compactWebhook(kind: string, payload: unknown): unknown {
  const parsed = (WEBHOOK_HANDLERS as Record<string, EntryHandler | undefined>)[kind]?.schema.safeParse(
    payload,
  );
  return parsed?.success ? parsed.data : payload;
}
