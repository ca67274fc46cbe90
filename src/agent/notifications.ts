import { eventsOf, lastOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { deriveState } from "../thread/state.js";

/**
 * What a thread still owes Slack, as a pure function of its events and the time: approval cards
 * and their updates, reminders, questions, and progress replies under the thread's first message.
 * Each notification has a key; a `slack_posted` event with that key means it was sent (or failed
 * for good), so it is not sent again. A `slack_posting` event is recorded before each post, and the
 * message is tagged with the key: after a crash between Slack's answer and the record, the retry
 * finds the message by its tag instead of posting it twice.
 */

export type ProgressEvent = EventOf<
  "deploy_dispatched" | "deploy_finished" | "done" | "failed" | "cancelled"
>;
/** What closes an approval card: a decision, its expiry, or the end of its thread while it was open. */
export type ApprovalOutcome = EventOf<
  "approval_granted" | "approval_rejected" | "approval_expired" | "done" | "failed" | "cancelled"
>;

export type Notification =
  | { kind: "root"; key: "root" }
  | { kind: "approval_card"; key: string; request: EventOf<"approval_requested"> }
  | {
      kind: "approval_update";
      key: string;
      request: EventOf<"approval_requested">;
      card: EventOf<"slack_posted">;
      outcome: ApprovalOutcome;
    }
  /** One more approval of a request that needs several: the card shows "1 of 2 approvals", in place. */
  | {
      kind: "approval_progress";
      key: string;
      request: EventOf<"approval_requested">;
      card: EventOf<"slack_posted">;
    }
  | { kind: "reminder"; key: string; request: EventOf<"approval_requested">; card: EventOf<"slack_posted"> }
  /** Someone broke glass: a loud message in the channel. */
  | { kind: "break_glass"; key: string; event: EventOf<"break_glass_used"> }
  | { kind: "question"; key: string; question: EventOf<"human_needed"> }
  | { kind: "progress"; key: string; event: ProgressEvent };

/** How long before an approval expires its reminder goes out: a quarter of its life, at most an hour. */
export function reminderLeadMs(requestedAt: string, expiresAt: string): number {
  const life = Date.parse(expiresAt) - Date.parse(requestedAt);
  return Math.max(0, Math.min(3_600_000, life / 4));
}

/** Where progress replies go: under the chat request that started the thread, or under its root post. */
export function threadRoot(events: readonly ThreadEvent[]): { channel: string; ts: string } | null {
  const request = lastOf(events, "chat_request");
  if (request?.data.channel && request.data.ts) return { channel: request.data.channel, ts: request.data.ts };
  const root = eventsOf(events, "slack_posted").find((e) => e.data.key === "root");
  return root?.data.ts ? { channel: root.data.channel, ts: root.data.ts } : null;
}

export function nextNotification(
  events: readonly ThreadEvent[],
  now: Date,
  state = deriveState(events),
): Notification | null {
  const posted = new Map(eventsOf(events, "slack_posted").map((e) => [e.data.key, e]));
  const requests = new Map(eventsOf(events, "approval_requested").map((e) => [e.data.approval_id, e]));
  // A thread that never deployed, asked or was asked anything stays quiet (e.g. a docs-only merge).
  const eventful = events.some((e) =>
    ["deploy_authorized", "approval_requested", "human_needed", "chat_request"].includes(e.type),
  );
  const needsRoot = !threadRoot(events) && !posted.has("root");
  // A request made in Slack is the root; one made through the API gets a root post like a merge.

  for (const event of events) {
    switch (event.type) {
      case "approval_requested": {
        const key = `approval:${event.data.approval_id}`;
        // An ended thread's approval is closed: no card and no reminder for it (its card is updated).
        const pending = !state.terminal && state.pendingApproval?.data.approval_id === event.data.approval_id;
        if (pending && !posted.has(key)) return { kind: "approval_card", key, request: event };
        const card = posted.get(key);
        const expiresAt = event.data.expires_at;
        if (pending && card?.data.ts && expiresAt) {
          const remindAt = Date.parse(expiresAt) - reminderLeadMs(event.at, expiresAt);
          const key = `reminder:${event.data.approval_id}`;
          if (now.getTime() >= remindAt && now.getTime() < Date.parse(expiresAt) && !posted.has(key)) {
            return { kind: "reminder", key, request: event, card };
          }
        }
        break;
      }
      case "approval_granted":
      case "approval_rejected":
      case "approval_expired": {
        const id = event.data.approval_id;
        const request = requests.get(id);
        const card = posted.get(`approval:${id}`);
        const key = `approval_update:${id}`;
        if (event.type === "approval_granted" && lastGrantOf(events, id)?.seq !== event.seq) break;
        if (event.type === "approval_granted" && state.pendingApproval?.data.approval_id === id) {
          // The quorum is not reached yet: the card stays open and says how far it got.
          const progress = `approval_progress:${id}:${event.seq}`;
          if (request && card?.data.ts && !state.terminal && !posted.has(progress)) {
            return { kind: "approval_progress", key: progress, request, card };
          }
          break;
        }
        if (event.type === "approval_granted" && closedWithoutQuorum(events, id)) break;
        if (request && card?.data.ts && !posted.has(key)) {
          return { kind: "approval_update", key, request, card, outcome: event };
        }
        break;
      }
      case "break_glass_used": {
        const key = `break_glass:${event.seq}`;
        if (!posted.has(key)) return { kind: "break_glass", key, event };
        break;
      }
      case "human_needed": {
        const key = `question:${event.seq}`;
        if (state.pendingQuestion?.seq === event.seq && !posted.has(key)) {
          // The question goes under the thread's first message, like the rest of its story.
          if (needsRoot) return { kind: "root", key: "root" };
          return { kind: "question", key, question: event };
        }
        break;
      }
      case "deploy_dispatched":
      case "deploy_finished":
      case "done":
      case "failed":
      case "cancelled": {
        // A thread that ends while its approval is open closes the card: nobody can decide it now.
        const open = state.pendingApproval;
        if (event.type !== "deploy_dispatched" && event.type !== "deploy_finished" && open) {
          const card = posted.get(`approval:${open.data.approval_id}`);
          const key = `approval_update:${open.data.approval_id}`;
          if (state.terminal?.seq === event.seq && card?.data.ts && !posted.has(key)) {
            return { kind: "approval_update", key, request: open, card, outcome: event };
          }
        }
        const key = `progress:${event.seq}`;
        if (!eventful || posted.has(key)) break;
        if (needsRoot) return { kind: "root", key: "root" };
        return { kind: "progress", key, event };
      }
      default:
        break;
    }
  }
  return null;
}

/** The last approval recorded for a request: the one that reached its quorum, once it is approved. */
function lastGrantOf(events: readonly ThreadEvent[], approvalId: string): ThreadEvent | undefined {
  return events.findLast((e) => e.type === "approval_granted" && e.data.approval_id === approvalId);
}

/** Whether a rejection or an expiry closed the request after some approvals: it is the outcome then. */
function closedWithoutQuorum(events: readonly ThreadEvent[], approvalId: string): boolean {
  return events.some(
    (e) =>
      (e.type === "approval_rejected" || e.type === "approval_expired") && e.data.approval_id === approvalId,
  );
}
