import { type Octokit } from "../github/repository.js";
import type { Log } from "../log.js";
import { SlackCallError, type SlackPort } from "../slack/client.js";
import {
  approvalCard,
  decidedCard,
  reminderText,
  type ApprovalCardInput,
  type ApprovalOutcome as CardOutcome,
} from "../slack/approval-card.js";
import {
  breakGlassUsed,
  deployFinished,
  deployStarted,
  questionMessage,
  threadDone,
  threadFailed,
  threadStarted,
} from "../slack/progress.js";
import {
  deciderLabel,
  eventsOf,
  lastOf,
  newEvent,
  type EventOf,
  type NewEvent,
  type Thread,
} from "../thread/events.js";
import { changedComponents } from "../thread/state.js";
import { threadEndedReason } from "../thread/status.js";
import type { ThreadView } from "../thread/view.js";
import { uncheckedAuthor } from "./approvers.js";
import { deployActionOf, describeStep } from "../thread/next-step.js";
import { threadRoot, type ApprovalOutcome, type Notification } from "./notifications.js";
import { clip, repoRefOf, short } from "../thread/text.js";

/**
 * Sends one notification to Slack and returns the events that record it. Slack being down is a
 * transient error (thrown: the thread retries later); a permanent refusal (no such channel, not in
 * channel, bad token) is recorded with its error, logged, and not retried.
 */

export interface NotifyDeps {
  slack: SlackPort;
  octokitFor(installationId: number): Promise<Octokit>;
  githubUrl: string;
  log: Log;
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

function cardOutcome(event: ApprovalOutcome): CardOutcome {
  switch (event.type) {
    case "approval_granted":
      return { kind: "approved", slackUser: deciderLabel(event.data), at: event.at };
    case "approval_rejected":
      return {
        kind: "rejected",
        slackUser: deciderLabel(event.data),
        at: event.at,
        reason: event.data.reason,
      };
    case "approval_expired":
      return { kind: "expired", slackUser: null, at: event.at };
    default:
      return { kind: "closed", slackUser: null, at: event.at, reason: threadEndedReason(event) };
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

/** Everything an approver should see, from the thread's events (and GitHub's compare, for commits). */
async function approvalCardInput(
  deps: NotifyDeps,
  { thread, state, config }: ThreadView,
  request: EventOf<"approval_requested">,
  options: { withChanges: boolean } = { withChanges: true },
): Promise<ApprovalCardInput> {
  const action = deployActionOf(request.data.step)!;
  const merged = lastOf(thread.events, "pr_merged");
  const ci = lastOf(thread.events, "ci_state");
  const decision = lastOf(thread.events, "decision");
  const deployedThere = lastOf(thread.events, "deployed_versions")?.data.entries.find(
    (e) => e.component === action.component && e.environment === action.environment,
  );
  const thisThread = state.successes
    .filter((s) => s.component === action.component && s.environment === action.environment)
    .at(-1);
  const currentSha = thisThread?.sha ?? deployedThere?.sha ?? null;
  let changes: ApprovalCardInput["changes"] = null;
  if (options.withChanges && currentSha && currentSha !== action.sha) {
    changes = await commitsBetween(deps, thread, currentSha, action.sha);
  }
  return {
    approvalId: request.data.approval_id,
    repo: thread.repo,
    kind: action.kind,
    component: action.component,
    environment: action.environment,
    sha: action.sha,
    serverUrl: deps.githubUrl,
    pr: merged
      ? {
          number: merged.data.number,
          title: merged.data.title,
          url: merged.data.html_url,
          author: merged.data.author,
        }
      : null,
    changes,
    currentSha,
    ci: ci && ci.data.sha === action.sha ? { state: ci.data.state, summary: ci.data.summary } : null,
    reason: action.reason,
    decider: decision
      ? decision.data.decider === "rules"
        ? "rules"
        : `${decision.data.decider} (${decision.data.model})`
      : "rules",
    expiresAt: request.data.expires_at,
    quorum: state.approvals?.approvalId === request.data.approval_id ? state.approvals : null,
    uncheckedAuthor: config ? uncheckedAuthor(config, action.environment, merged?.data.author ?? null) : null,
    why: request.data.why ?? null,
  };
}

async function commitsBetween(
  deps: NotifyDeps,
  thread: Thread,
  base: string,
  head: string,
): Promise<ApprovalCardInput["changes"]> {
  const ref = repoRefOf(thread.repo);
  try {
    const octokit = await deps.octokitFor(thread.installationId);
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      ...ref,
      basehead: `${base}...${head}`,
      per_page: 20,
    });
    return {
      commits: data.commits.map((c) => ({ sha: c.sha, message: c.commit.message })).reverse(),
      total: data.total_commits,
    };
  } catch (error) {
    deps.log.warn(
      { thread: thread.id },
      `could not list commits ${short(base)}...${short(head)}: ${String(error)}`,
    );
    return null;
  }
}
