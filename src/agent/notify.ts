import { SlackCallError, type SlackPort } from "../slack/client.js";
import { approvalCard, decidedCard, reminderText } from "../slack/approval-card.js";
import {
  breakGlassUsed,
  deployFinished,
  deployStarted,
  questionMessage,
  threadDone,
  threadFailed,
  threadStarted,
} from "../slack/progress.js";
import { eventsOf, lastOf, newEvent, type EventOf, type NewEvent, type Thread } from "../thread/events.js";
import { changedComponents } from "../thread/state.js";
import type { ThreadView } from "../thread/view.js";
import { describeStep } from "../thread/next-step.js";
import { clip } from "../thread/text.js";
import { approvalCardInput, cardOutcome, type ApprovalCardDeps } from "./approval-card-input.js";
import { threadRoot, type Notification } from "./notifications.js";

/**
 * Sends one notification to Slack and returns the events that record it. Slack being down is a
 * transient error (thrown: the thread retries later); a permanent refusal (no such channel, not in
 * channel, bad token) is recorded with its error, logged, and not retried.
 */

export interface NotifyDeps extends ApprovalCardDeps {
  slack: SlackPort;
  setRef(key: string, value: string): Promise<void>;
}

export async function sendNotification(
  deps: NotifyDeps,
  view: ThreadView,
  n: Notification,
  options: { recovering: boolean } = { recovering: false },
): Promise<NewEvent[]> {
  const { thread, config } = view;
  const channel = config?.slack?.channel;
  if (!channel) return [];
  // After a crash between posting and recording, the message may already be in Slack: find it by
  // its tag instead of posting it twice.
  const post: SlackPort["postMessage"] = async (args) => {
    const notificationKey = `${thread.id}/${n.key}`;
    if (options.recovering) {
      const ts = await deps.slack
        .findTaggedMessage({
          channel: args.channel,
          ...(args.threadTs ? { threadTs: args.threadTs } : {}),
          notificationKey,
        })
        .catch((error: unknown) => {
          // Slack is down: try again later rather than risk a duplicate. A permanent refusal (e.g. the
          // app lacks channels:history) cannot improve by waiting: post, at the risk of a duplicate.
          if (!(error instanceof SlackCallError) || error.transient) throw error;
          deps.log.warn(
            { thread: thread.id },
            `could not look for an earlier ${n.kind} message: ${error.message}`,
          );
          return null;
        });
      if (ts) return { channel: args.channel, ts };
    }
    return deps.slack.postMessage({ ...args, notificationKey });
  };
  const posted = (
    purpose: EventOf<"slack_posted">["data"]["purpose"],
    ts: string | null,
    error: string | null = null,
  ) => newEvent("slack_posted", { key: n.key, purpose, channel, ts, error });
  try {
    switch (n.kind) {
      case "root": {
        const merged = lastOf(thread.events, "pr_merged");
        const text = threadStarted(
          thread.repo,
          merged ? { number: merged.data.number, title: merged.data.title, url: merged.data.html_url } : null,
          changedComponents(thread.events),
          lastOf(thread.events, "chat_request")?.data.text ?? null,
        );
        const message = await post({ channel, text });
        return [posted("root", message.ts)];
      }
      case "approval_card": {
        const input = await approvalCardInput(deps, view, n.request);
        const message = await post({ channel, ...approvalCard(input) });
        await deps.setRef(`approval:${n.request.data.approval_id}`, thread.id);
        return [posted("approval", message.ts)];
      }
      case "approval_update": {
        const input = await approvalCardInput(deps, view, n.request, { withChanges: false });
        const outcome = cardOutcome(n.outcome);
        await deps.slack.updateMessage({
          channel: n.card.data.channel,
          ts: n.card.data.ts!,
          ...decidedCard(input, outcome),
        });
        return [posted("approval_update", n.card.data.ts)];
      }
      case "approval_progress": {
        const input = await approvalCardInput(deps, view, n.request, { withChanges: false });
        await deps.slack.updateMessage({
          channel: n.card.data.channel,
          ts: n.card.data.ts!,
          ...approvalCard(input),
        });
        return [posted("approval_update", n.card.data.ts)];
      }
      case "break_glass": {
        const { by, channel: via, reason, skipped, step } = n.event.data;
        const text = breakGlassUsed({ by, channel: via, reason, skipped, step: describeStep(step) });
        const message = await post({ channel, text });
        return [posted("progress", message.ts)];
      }
      case "reminder": {
        const input = await approvalCardInput(deps, view, n.request, { withChanges: false });
        const message = await post({
          channel: n.card.data.channel,
          threadTs: n.card.data.ts!,
          text: reminderText(input, n.request.data.expires_at!),
        });
        return [posted("reminder", message.ts)];
      }
      case "question": {
        const merged = lastOf(thread.events, "pr_merged");
        const context = merged
          ? `${thread.repo}#${merged.data.number} ${merged.data.title}`
          : (lastOf(thread.events, "chat_request")?.data.text ?? thread.repo);
        const root = threadRoot(thread.events);
        const message = await post({
          channel: root?.channel ?? channel,
          ...(root ? { threadTs: root.ts } : {}),
          ...questionMessage(n.question.data.question, n.question.data.reason, context),
        });
        // Replies in the question's Slack thread are the answer (whichever message they hang under).
        await deps.setRef(`slack_thread:${message.channel}:${message.ts}`, thread.id);
        if (root) await deps.setRef(`slack_thread:${root.channel}:${root.ts}`, thread.id);
        return [posted("question", message.ts)];
      }
      case "progress": {
        const root = threadRoot(thread.events);
        const text = progressLine(thread, n.event);
        const message = await post({
          channel: root?.channel ?? channel,
          ...(root ? { threadTs: root.ts } : {}),
          text,
        });
        return [posted("progress", message.ts)];
      }
    }
  } catch (error) {
    if (error instanceof SlackCallError && !error.transient) {
      deps.log.error({ thread: thread.id, channel }, `Slack refused a ${n.kind} message: ${error.message}`);
      return [
        posted(
          n.kind === "approval_card"
            ? "approval"
            : n.kind === "approval_update" || n.kind === "approval_progress"
              ? "approval_update"
              : n.kind === "break_glass"
                ? "progress"
                : n.kind,
          null,
          clip(error.message, 300),
        ),
      ];
    }
    throw error;
  }
}

function progressLine(
  thread: Thread,
  event: Notification & { kind: "progress" } extends { event: infer E } ? E : never,
): string {
  switch (event.type) {
    case "deploy_dispatched": {
      const created = eventsOf(thread.events, "deployment_created").find(
        (e) => e.data.deployment_id === event.data.deployment_id,
      );
      return deployStarted(
        created?.data.component ?? "?",
        created?.data.environment ?? "?",
        created?.data.sha ?? "0".repeat(40),
        event.data.run_url,
      );
    }
    case "deploy_finished":
      return deployFinished(
        event.data.component,
        event.data.environment,
        event.data.sha,
        event.data.outcome,
        event.data.outcome === "success" ? "" : event.data.summary,
        event.data.log_url,
      );
    case "done":
      return threadDone(event.data.message);
    case "failed":
      return threadFailed(event.data.reason);
    case "cancelled":
      return threadFailed(
        `cancelled by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ""}`,
      );
  }
}
