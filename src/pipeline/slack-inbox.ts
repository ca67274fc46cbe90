import { createHash } from "node:crypto";
import { z } from "zod";
import { append, withAppended } from "../agent/append.js";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { refusedClick } from "../slack/progress.js";
import type { SlackPort } from "../slack/client.js";
import { newEvent, type EventOf, type Thread } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import { decideApproval as decideOnAnyChannel } from "./approvals.js";
import { startRequestThread, type CheckedRequest, type DeclaredBreakGlass } from "./requests.js";
import { resolveRepository, type RequestTarget } from "./request-target.js";
import { prepareBreakGlass, slashBreakGlass } from "./slash-break-glass.js";
import { clip } from "../thread/text.js";

/**
 * What the worker does with Slack's requests: approval clicks and rejections (checked against the
 * approver policy), answers to questions, and requests in words that start a thread.
 */

/**
 * When deploybot received the click (its own clock, not Slack's), parsed to a Date for
 * `decideApproval`'s `clickedAt`; absent on entries queued before it was recorded.
 */
const ClickedAt = z.iso
  .datetime()
  .transform((text) => new Date(text))
  .optional();

/** The inbox kinds of Slack's requests (stored rows carry these strings). */
export const SLACK_KINDS = {
  approve: "slack.approve",
  reject: "slack.reject",
  event: "slack.event",
  command: "slack.command",
} as const;

export const ApprovalClick = z.object({
  approval_id: z.string().min(1),
  user: z.string(),
  channel: z.string().nullable(),
  clicked_at: ClickedAt,
});
/** A click as queued: `clicked_at` is still the ISO string the route wrote. */
export type ApprovalClick = z.input<typeof ApprovalClick>;
export const Rejection = z.object({
  approval_id: z.string().min(1),
  user: z.string(),
  reason: z.string().min(1),
  clicked_at: ClickedAt,
});
/** A rejection as queued: `clicked_at` is still the ISO string the route wrote. */
export type Rejection = z.input<typeof Rejection>;
export const SlashRequest = z.object({ text: z.string().min(1), user: z.string(), channel: z.string() });
export type SlashRequest = z.infer<typeof SlashRequest>;
export const SlackEvent = z.object({
  type: z.enum(["app_mention", "message"]),
  user: z.string().optional(),
  text: z.string(),
  channel: z.string(),
  ts: z.string(),
  threadTs: z.string().optional(),
  botId: z.string().optional(),
  subtype: z.string().optional(),
});
export type SlackEvent = z.infer<typeof SlackEvent>;

function requireSlack(deps: LoopDeps): SlackPort {
  if (!deps.slack) throw new Error("a Slack request arrived but SLACK_BOT_TOKEN is not set");
  return deps.slack;
}

async function tell(deps: LoopDeps, channel: string | null, user: string, text: string): Promise<void> {
  if (!channel || !deps.slack) return;
  await deps.slack.postEphemeral({ channel, user, text });
}

/**
 * Where to answer a decider: the channel of the click, or, for a modal submission (which carries
 * no channel), the channel of the approval card the modal was opened from.
 */
function answerChannel(thread: Thread | null, approvalId: string, channel: string | null): string | null {
  if (channel) return channel;
  const card = thread?.events.find(
    (e): e is EventOf<"slack_posted"> => e.type === "slack_posted" && e.data.key === `approval:${approvalId}`,
  );
  return card?.data.channel ?? null;
}

/**
 * An approve click, or a rejection with its reason, judged as of the click by the approver policy
 * all channels share (see approvals.ts); a refusal is told as an ephemeral message. Returns a note
 * for the inbox.
 */
export async function decideApproval(
  deps: LoopDeps,
  input: {
    approvalId: string;
    user: string;
    channel: string | null;
    decision: "approve" | "reject";
    reason?: string;
    /** When deploybot received the click; the worker's clock when unknown. */
    clickedAt?: Date;
  },
): Promise<string> {
  return decideOnAnyChannel(deps, {
    approvalId: input.approvalId,
    threadId: null,
    decider: { channel: "slack", slackUser: input.user },
    decision: input.decision,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.clickedAt ? { decidedAt: input.clickedAt } : {}),
    tell: (text, thread) =>
      tell(deps, answerChannel(thread, input.approvalId, input.channel), input.user, refusedClick(text)),
  });
}

/** A message in Slack: a reply to a question, or a mention asking for something. */
export async function handleSlackEvent(deps: LoopDeps, event: SlackEvent): Promise<string> {
  if (event.botId || event.subtype || !event.user) return "skipped: not a person's message";
  const text = event.text.replace(/<@[A-Z0-9]+>/g, "").trim();
  if (event.threadTs) {
    const threadId = await deps.store.getRef(`slack_thread:${event.channel}:${event.threadTs}`);
    if (threadId) await deps.own?.(threadId);
    const thread = threadId ? await deps.store.getThread(threadId) : null;
    if (thread && deriveState(thread.events).pendingQuestion) {
      const appended = await append(deps, thread, [
        newEvent("human_answered", { answer: clip(text, 2_000) || "(empty)", slack_user: event.user }),
      ]);
      await advanceThread(deps, thread.id, withAppended(thread, appended));
      return `answer for thread ${thread.id}`;
    }
    if (event.type === "message") return "skipped: a reply nobody asked for";
  }
  if (event.type !== "app_mention") return "skipped: a message that is not for deploybot";
  return startChatThread(deps, {
    text,
    user: event.user,
    channel: event.channel,
    ts: event.ts,
    source: "mention",
  });
}

/** `/deploybot <text>`: a message in the channel is the thread's root, then the same as a mention. */
export async function handleSlashRequest(
  deps: LoopDeps,
  request: SlashRequest,
  deliveryId: string,
): Promise<string> {
  const declared = slashBreakGlass(request);
  if (declared && "problem" in declared) {
    await tell(
      deps,
      request.channel,
      request.user,
      refusedClick(`${declared.problem}. Nothing was deployed.`),
    );
    return `refused: ${declared.problem}`;
  }
  // Judged before anything shows in the channel: a refused break-glass is told to its asker alone.
  const prepared = declared ? await prepareBreakGlass(deps, request.channel, declared) : null;
  if (prepared && !prepared.checked.ok) {
    await tell(deps, request.channel, request.user, refusedClick(prepared.checked.problem));
    return `refused: ${prepared.checked.problem}`;
  }
  const key = `command:${deliveryId}`;
  let ts = await deps.store.getRef(key);
  if (!ts) {
    const root = await requireSlack(deps).postMessage({
      channel: request.channel,
      text: `<@${request.user}> asked: ${clip(request.text.replace(/[<>&]/g, ""), 1_000)}`,
    });
    ts = root.ts;
    await deps.store.setRef(key, ts, deps.clock());
  }
  return startChatThread(deps, {
    ...request,
    ...(declared ? { text: declared.text, breakGlass: declared.breakGlass } : {}),
    ...(prepared?.checked.ok ? { prepared: { target: prepared.target, checked: prepared.checked } } : {}),
    ts,
    source: "command",
  });
}

export async function startChatThread(
  deps: LoopDeps,
  request: {
    text: string;
    user: string;
    channel: string;
    ts: string;
    source: "mention" | "command";
    breakGlass?: DeclaredBreakGlass;
    /** The repository and the checked request, when the break-glass was judged first. */
    prepared?: { target: RequestTarget; checked: Extract<CheckedRequest, { ok: true }> };
  },
): Promise<string> {
  const slack = requireSlack(deps);
  const threadId = `th_${createHash("sha256").update(`slack:${request.channel}:${request.ts}`).digest("hex").slice(0, 20)}`;
  if (await deps.store.getThreadSummary(threadId)) {
    await advanceThread(deps, threadId);
    return `thread ${threadId}`;
  }
  const reply = (text: string) => slack.postMessage({ channel: request.channel, threadTs: request.ts, text });
  const target = request.prepared?.target ?? (await resolveRepository(deps, request.text, request.channel));
  if (!target) {
    await reply(
      "I don't know which repository this channel deploys. Name it as `owner/repo` (deploybot must be installed there).",
    );
    return "skipped: no repository for this channel";
  }
  const started = await startRequestThread(deps, {
    threadId,
    repo: target.repo,
    installationId: target.installationId,
    text: request.text,
    origin: {
      source: request.source,
      slackUser: request.user,
      channel: request.channel,
      ts: request.ts,
      requestedBy: null,
    },
    ...(request.breakGlass ? { breakGlass: request.breakGlass } : {}),
    ...(request.prepared ? { checked: request.prepared.checked } : {}),
  });
  if (!started.ok) {
    await reply(started.problem);
    return `skipped: ${started.problem}`;
  }
  deps.log.info(
    { thread: threadId, repo: target.repo },
    `Slack request from ${request.user} started a thread`,
  );
  return `thread ${threadId}`;
}
