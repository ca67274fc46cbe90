import { z } from "zod";
import { deployActionOf } from "../thread/next-step.js";
import { appendUnlessMoved, withAppended } from "../agent/append.js";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { approverVerdict, type Decider } from "../agent/approvers.js";
import { membershipsOf } from "./approval-memberships.js";
import { environmentIndex, type RepoConfig } from "../config/repo-config.js";
import { eventsOf, newEvent, type Thread } from "../thread/events.js";
import { approvalClosed } from "../thread/approval-closed.js";
import { configOf, deriveState } from "../thread/state.js";
import { clip } from "../thread/text.js";
import { personOf } from "../thread/identity.js";
import { quorumText } from "../thread/quorum.js";
import { approvalAnswersOf, prAuthorOf } from "../agent/policy/thread-facts.js";

/**
 * Approvals decided on any channel (Slack, a `/deploybot` PR comment, the REST API, the
 * dashboard), judged by the one approver policy (agent/approvers.ts) as of the moment the decision
 * was given. Each valid approval is recorded with who decided and through which channel; the request
 * stays pending until `approvals_required` distinct people approved it (one person counts once,
 * whatever the channel), and the first rejection closes it. The channels differ only in how a person is named and how a refusal is told.
 */

/**
 * An approve or reject through the REST API or a dashboard button, as queued in the inbox (kind
 * `api.decision`). `received_at` is when deploybot received it: the decision is judged as of then.
 */
export const ApiDecision = z.object({
  thread_id: z.string().min(1),
  decision: z.enum(["approve", "reject"]),
  reason: z.string().max(2_000).nullable(),
  client: z.string().min(1),
  channel: z.enum(["api", "dashboard"]),
  received_at: z.iso.datetime(),
});
export type ApiDecision = z.infer<typeof ApiDecision>;

export const API_DECISION_KIND = "api.decision";

export interface DecisionInput {
  /** The approval decided (a Slack card names it); null: the one the thread waits for now. */
  approvalId: string | null;
  /** The thread, when the channel names it (a PR comment, the REST API); else found by the approval. */
  threadId: string | null;
  decider: Decider;
  decision: "approve" | "reject";
  reason?: string;
  /** When deploybot received the decision; the worker's clock when unknown. */
  decidedAt?: Date;
  /** Tells the decider why nothing changed (an ephemeral Slack message, a PR reply). */
  tell: (text: string, thread: Thread | null) => Promise<void>;
}

function notPending(reason: string): string {
  return `This approval is no longer pending: ${reason}. Nothing changed.`;
}

function byOf(decider: Decider): string {
  return decider.channel === "slack"
    ? decider.slackUser
    : decider.channel === "github"
      ? decider.login
      : decider.client;
}

/**
 * An approve or a reject, from any channel, judged as of `decidedAt`: after the approval's expiry,
 * once it was decided, or on a thread that was cancelled, finished or superseded, it is refused
 * (told to the decider) and nothing is recorded; a decider the policy does not allow is refused
 * with the reason. Returns a note for the inbox.
 */
export async function decideApproval(deps: LoopDeps, input: DecisionInput): Promise<string> {
  const decidedAt = input.decidedAt ?? deps.clock();
  const who = byOf(input.decider);
  const threadId =
    input.threadId ?? (input.approvalId ? await deps.store.getRef(`approval:${input.approvalId}`) : null);
  if (threadId) await deps.own?.(threadId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = threadId ? await deps.store.getThread(threadId) : null;
    if (!thread) {
      await input.tell(notPending("deploybot has no such approval"), null);
      return `skipped: approval ${input.approvalId ?? `of thread ${threadId}`} is not pending`;
    }
    const state = deriveState(thread.events);
    const approvalId =
      input.approvalId ??
      state.pendingApproval?.data.approval_id ??
      eventsOf(thread.events, "approval_requested").at(-1)?.data.approval_id ??
      null;
    if (!approvalId) {
      await input.tell("Nothing in this deploy waits for an approval. Nothing changed.", thread);
      return `skipped: thread ${thread.id} has no approval to ${input.decision}`;
    }
    const closed = approvalClosed(thread.events, approvalId, decidedAt, state);
    if (closed) {
      deps.log.info(
        { thread: thread.id, user: who, channel: input.decider.channel },
        `refused ${input.decision} of approval ${approvalId}: ${closed.reason}`,
      );
      await input.tell(notPending(closed.reason), thread);
      // Records an expiry that is due and updates the cards of a closed approval.
      if (closed.kind !== "unknown") await advanceThread(deps, thread.id, thread);
      return `skipped: approval ${approvalId} is not pending: ${closed.reason}`;
    }
    const pending = state.pendingApproval!;
    const config = configOf(thread.events)!;
    const action = deployActionOf(pending.data.step)!;
    const env = config.environments[environmentIndex(config, action.environment)];
    const verdict = approverVerdict({
      config,
      environment: action.environment,
      decider: input.decider,
      decision: input.decision,
      prAuthor: prAuthorOf(thread.events),
      ...(env ? { memberships: await membershipsOf(deps, thread, env, input.decider) } : {}),
    });
    if (!verdict.ok) {
      deps.log.info(
        { thread: thread.id, user: who, channel: input.decider.channel },
        `refused ${input.decision}: ${verdict.reason}`,
      );
      await input.tell(verdict.reason, thread);
      return `refused: ${verdict.reason}`;
    }
    const again =
      input.decision === "approve" ? approvedBefore(thread, config, approvalId, input.decider) : null;
    if (again) {
      const progress = state.approvals ? ` (${quorumText(state.approvals)})` : "";
      await input.tell(
        `You already approved this${progress}; it needs another approver, and one person counts once on any channel. Nothing changed.`,
        thread,
      );
      return `skipped: ${who} already approved ${approvalId}`;
    }
    const decided = {
      approval_id: approvalId,
      by: who,
      channel: input.decider.channel,
      slack_user: input.decider.channel === "slack" ? input.decider.slackUser : null,
    };
    const event =
      input.decision === "approve"
        ? newEvent("approval_granted", decided)
        : newEvent("approval_rejected", {
            ...decided,
            reason: clip(input.reason ?? "", 2_000) || "(no reason given)",
          });
    const appended = await appendUnlessMoved(deps, thread, [event]);
    if (!appended) continue;
    deps.log.info(
      { thread: thread.id, user: who, channel: input.decider.channel },
      `approval ${approvalId}: ${input.decision}d`,
    );
    await advanceThread(deps, thread.id, withAppended(thread, appended));
    return `${input.decision}d by ${who} (${input.decider.channel})`;
  }
  throw new Error(`approval ${input.approvalId ?? `of ${threadId}`}: the thread kept changing; retrying`);
}

/** Whether the decider (as one person across channels) already approved this request. */
function approvedBefore(thread: Thread, config: RepoConfig, approvalId: string, decider: Decider): boolean {
  const me = personOf(config, { by: byOf(decider), channel: decider.channel });
  return approvalAnswersOf(thread.events, approvalId).some(
    (a) => a.decision === "approve" && personOf(config, a) === me,
  );
}

/** An `api.decision` inbox entry (REST API or dashboard): the same policy as every other channel. */
export async function decideFromApi(deps: LoopDeps, entry: ApiDecision): Promise<string> {
  return decideApproval(deps, {
    approvalId: null,
    threadId: entry.thread_id,
    decider: { channel: entry.channel, client: entry.client },
    decision: entry.decision,
    ...(entry.reason ? { reason: entry.reason } : {}),
    decidedAt: new Date(entry.received_at),
    // The HTTP answer was given when the request was queued; a refusal is in the log and the thread.
    tell: async (text, thread) => {
      deps.log.info({ thread: thread?.id ?? entry.thread_id, client: entry.client }, text);
    },
  });
}
