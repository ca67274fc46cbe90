import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteHandler } from "../app.js";
import { deployActionOf } from "../thread/next-step.js";
import type { Log } from "../log.js";
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from "../slack/approval-card.js";
import { REJECT_CALLBACK_ID, rejectModal } from "../slack/reject-modal.js";
import { statusBlocks } from "../slack/progress.js";
import type { SlackPort } from "../slack/client.js";
import {
  parseEventEnvelope,
  parseInteraction,
  parseSlashCommand,
  SlackPayloadError,
} from "../slack/payloads.js";
import { verifySlackRequest } from "../slack/verify.js";
import type { InboxEntryInput, Store } from "../store/store.js";
import { UNFINISHED_STATUSES } from "../thread/events.js";
import { approvalClosed } from "../thread/approval-closed.js";
import { deriveState } from "../thread/state.js";
import { isLockWord, parseLockCommand } from "../github/lock-command.js";
import { MANUAL_LOCK_KINDS, type SlackLockRequest } from "../pipeline/lock-commands.js";
import {
  SLACK_KINDS,
  type ApprovalClick,
  type Rejection,
  type SlackEvent,
  type SlashRequest,
} from "../pipeline/slack-inbox.js";
import { HttpError, mediaType, pathOf, readBody, sendEmpty, sendJson } from "./body.js";
import { clip, short } from "../thread/text.js";

/**
 * Slack's three endpoints. Each verifies the signature on the raw body before parsing
 * anything, stores the request in the inbox and answers within Slack's 3 seconds; the worker does
 * the rest. The one exception is opening the rejection modal: Slack's trigger_id lives 3 seconds.
 */

export interface SlackRouteDeps {
  store: Store;
  clock: () => Date;
  signingSecret: string | undefined;
  slack: SlackPort | null;
  log: Log;
}

const PATHS = new Set(["/slack/actions", "/slack/commands", "/slack/events"]);

export const SLACK_HELP =
  'Usage: `/deploybot status` lists running deploys; `/deploybot deploy the frontend to staging` or `/deploybot roll back the backend in production` asks for a deploy (add `owner/repo` when the channel serves several repositories); `/deploybot lock production backend "migrating the database"` holds deploys there until `/deploybot unlock production backend`.';

/** A request Slack sent, queued under the hash of its body (a retry is stored once). */
function slackEntry(raw: Buffer, kind: string, payload: unknown): InboxEntryInput {
  return { deliveryId: deliveryId(raw), source: "slack", kind, payload };
}

function deliveryId(raw: Buffer): string {
  return `slack:${createHash("sha256").update(raw).digest("hex").slice(0, 40)}`;
}

export function slackRoutes(deps: SlackRouteDeps): RouteHandler {
  return async (req, res) => {
    const path = pathOf(req);
    if (!PATHS.has(path)) return false;
    try {
      await handle(deps, path, req, res);
    } catch (error) {
      if (error instanceof HttpError || error instanceof SlackPayloadError) {
        if (!res.headersSent) sendJson(res, error.status, { error: error.message });
      } else {
        deps.log.error({ path }, `Slack request failed: ${String(error)}`);
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      }
    }
    return true;
  };
}

async function handle(deps: SlackRouteDeps, path: string, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== "POST") throw new HttpError(405, `${path} accepts POST only`);
  if (!deps.signingSecret) {
    throw new HttpError(503, "Slack is not configured: set SLACK_SIGNING_SECRET");
  }
  const raw = await readBody(req);
  const verification = verifySlackRequest(
    deps.signingSecret,
    {
      timestamp: req.headers["x-slack-request-timestamp"] as string | undefined,
      signature: req.headers["x-slack-signature"] as string | undefined,
    },
    raw,
    Math.floor(deps.clock().getTime() / 1000),
  );
  if (!verification.ok) throw new HttpError(401, `Slack signature refused: ${verification.reason}`);
  const expected = path === "/slack/events" ? "application/json" : "application/x-www-form-urlencoded";
  if (mediaType(req) !== expected) throw new HttpError(415, `${path} expects ${expected}`);
  const body = raw.toString("utf8");

  if (path === "/slack/events") return events(deps, body, res);
  if (path === "/slack/commands") return command(deps, raw, body, res);
  return interaction(deps, raw, body, res);
}

async function events(deps: SlackRouteDeps, body: string, res: ServerResponse) {
  const envelope = parseEventEnvelope(body);
  if (envelope.type === "url_verification") return sendJson(res, 200, { challenge: envelope.challenge });
  if (envelope.event.type === "other") return sendEmpty(res);
  // Slack retries an unanswered event with the same event_id: the inbox keeps one.
  await deps.store.enqueue(
    {
      deliveryId: `slack-event:${envelope.eventId}`,
      source: "slack",
      kind: SLACK_KINDS.event,
      payload: envelope.event satisfies SlackEvent,
    },
    deps.clock(),
  );
  return sendEmpty(res);
}

async function command(deps: SlackRouteDeps, raw: Buffer, body: string, res: ServerResponse) {
  const cmd = parseSlashCommand(body);
  const text = cmd.text.trim();
  if (text === "" || text === "help") {
    return sendJson(res, 200, { response_type: "ephemeral", text: SLACK_HELP });
  }
  if (text === "status") {
    const threads = await deps.store.listThreads({
      status: [...UNFINISHED_STATUSES],
      limit: 50,
    });
    return sendJson(res, 200, { response_type: "ephemeral", ...statusBlocks(threads) });
  }
  const [word = "", ...rest] = text.split(/\s+/);
  const request = { text, user: cmd.userId, channel: cmd.channelId };
  if (isLockWord(word)) {
    const parsed = parseLockCommand(word, rest.join(" "));
    if (parsed.kind === "invalid") {
      return sendJson(res, 200, {
        response_type: "ephemeral",
        text: `I did not understand that: ${parsed.problem}.`,
      });
    }
    await deps.store.enqueue(
      slackEntry(raw, MANUAL_LOCK_KINDS.slack, request satisfies SlackLockRequest),
      deps.clock(),
    );
    return sendJson(res, 200, {
      response_type: "ephemeral",
      text: `On it: I'll tell you here once it is ${parsed.kind}ed.`,
    });
  }
  await deps.store.enqueue(
    slackEntry(raw, SLACK_KINDS.command, request satisfies SlashRequest),
    deps.clock(),
  );
  return sendJson(res, 200, { response_type: "ephemeral", text: "On it: I'll answer in this channel." });
}

async function interaction(deps: SlackRouteDeps, raw: Buffer, body: string, res: ServerResponse) {
  const payload = parseInteraction(body);
  if (payload.type === "block_actions") {
    if (payload.actionId === APPROVE_ACTION_ID) {
      await deps.store.enqueue(
        slackEntry(raw, SLACK_KINDS.approve, {
          approval_id: payload.value,
          user: payload.user,
          channel: payload.channel,
          // The click is judged as of now (expiry), not as of when the worker gets to it.
          clicked_at: deps.clock().toISOString(),
        } satisfies ApprovalClick),
        deps.clock(),
      );
      return sendEmpty(res);
    }
    if (payload.actionId === REJECT_ACTION_ID) {
      // The modal must open now: its trigger_id expires in 3 seconds. The reason comes back as a
      // view_submission, which is where the rejection (and who may reject) is decided.
      if (deps.slack) {
        const summary = await approvalSummary(deps.store, payload.value, deps.clock());
        await deps.slack
          .openView(payload.triggerId, rejectModal(payload.value, summary))
          .catch((error: unknown) =>
            deps.log.warn({}, `could not open the rejection modal: ${String(error)}`),
          );
      }
      return sendEmpty(res);
    }
    throw new HttpError(400, `unknown Slack action "${clip(payload.actionId, 60)}"`);
  }
  if (payload.type === "view_submission") {
    if (payload.callbackId !== REJECT_CALLBACK_ID) {
      throw new HttpError(400, `unknown Slack view "${clip(payload.callbackId, 60)}"`);
    }
    const reason = payload.values["reason"]?.["reason"]?.value?.trim() ?? "";
    if (!reason) {
      return sendJson(res, 200, {
        response_action: "errors",
        errors: { reason: "Say why, so deploybot can re-plan." },
      });
    }
    await deps.store.enqueue(
      slackEntry(raw, SLACK_KINDS.reject, {
        approval_id: payload.privateMetadata,
        user: payload.user,
        reason: clip(reason, 2_000),
        clicked_at: deps.clock().toISOString(),
      } satisfies Rejection),
      deps.clock(),
    );
    return sendEmpty(res);
  }
  return sendEmpty(res);
}

/**
 * One line for the modal: what is being rejected, or why it no longer can be (judged as of the
 * click, like the rejection itself). A read of the local database, nothing remote.
 */
async function approvalSummary(store: Store, approvalId: string, now: Date): Promise<string> {
  const threadId = await store.getRef(`approval:${approvalId}`);
  const thread = threadId ? await store.getThread(threadId) : null;
  if (!thread) return "This approval is no longer pending.";
  const closed = approvalClosed(thread.events, approvalId, now);
  if (closed) return `This approval is no longer pending: ${closed.reason}. A rejection changes nothing.`;
  const pending = deriveState(thread.events).pendingApproval;
  const action = pending ? deployActionOf(pending.data.step) : null;
  if (!action) return "This approval is no longer pending.";
  return `Reject the ${action.kind} of ${action.component} ${short(action.sha)} to ${action.environment} in ${thread.repo}?`;
}
