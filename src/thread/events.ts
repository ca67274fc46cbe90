import { z } from "zod";
import * as schemas from "./event-data.js";

export * from "./decided-by.js";
export * from "./event-data.js";

/**
 * The thread's events: the single source of truth for a deploy conversation. Every event is
 * `{ seq, type, at, data }`; `data` is checked by the schema of its type (`event-data.ts`).
 * Execution state (what the thread waits for, retries, consecutive errors) is derived from these.
 */

export const EventData = {
  pr_merged: schemas.PrMerged,
  config_loaded: schemas.ConfigLoaded,
  config_invalid: schemas.ConfigInvalid,
  changes_classified: schemas.ChangesClassified,
  deployed_versions: schemas.DeployedVersions,
  ci_state: schemas.CiState,
  decision: schemas.Decision,
  decision_error: schemas.DecisionError,
  policy_refused: schemas.PolicyRefused,
  step_deferred: schemas.StepDeferred,
  approval_requested: schemas.ApprovalRequested,
  approval_granted: schemas.ApprovalGranted,
  approval_rejected: schemas.ApprovalRejected,
  approval_expired: schemas.ApprovalExpired,
  deploy_authorized: schemas.DeployAuthorized,
  deployment_created: schemas.DeploymentCreated,
  deploy_dispatched: schemas.DeployDispatched,
  run_dispatched: schemas.RunDispatched,
  deploy_finished: schemas.DeployFinished,
  chat_request: schemas.ChatRequest,
  branch_head: schemas.BranchHead,
  pr_found: schemas.PrFound,
  slack_posting: schemas.SlackPosting,
  github_writing: schemas.GitHubWriting,
  pr_comment_posting: schemas.PrCommentPosting,
  pr_comment_synced: schemas.PrCommentSynced,
  slack_posted: schemas.SlackPosted,
  service_unavailable: schemas.ServiceUnavailable,
  human_needed: schemas.HumanNeeded,
  human_answered: schemas.HumanAnswered,
  paused: schemas.Paused,
  resumed: schemas.Resumed,
  cancelled: schemas.Cancelled,
  done: schemas.Done,
  failed: schemas.Failed,
  commits_compared: schemas.CommitsCompared,
  break_glass_used: schemas.BreakGlassUsed,
  verify_dispatched: schemas.VerifyDispatched,
  verify_finished: schemas.VerifyFinished,
} as const;

export type EventType = keyof typeof EventData;
export type EventDataOf<T extends EventType> = z.infer<(typeof EventData)[T]>;

/** An event not yet stored: what the loop proposes to append. */
export type NewEvent = { [T in EventType]: { type: T; data: EventDataOf<T> } }[EventType];

/** A stored event. */
export type ThreadEvent = {
  [T in EventType]: { seq: number; at: string; type: T; data: EventDataOf<T> };
}[EventType];

export const EVENT_TYPES = Object.keys(EventData) as EventType[];

export function newEvent<T extends EventType>(type: T, data: EventDataOf<T>): NewEvent {
  return { type, data } as NewEvent;
}

/** Validates an event's data by its type; used by the store on write and on read. */
export function parseEvent(raw: { seq: number; at: string; type: string; data: unknown }): ThreadEvent {
  const schema = (EventData as Record<string, z.ZodType>)[raw.type];
  if (!schema) throw new Error(`unknown thread event type "${raw.type}" at seq ${raw.seq}`);
  return { seq: raw.seq, at: raw.at, type: raw.type, data: schema.parse(raw.data) } as ThreadEvent;
}

export function validateNewEvent(event: NewEvent): NewEvent {
  const schema = (EventData as Record<string, z.ZodType>)[event.type];
  if (!schema) throw new Error(`unknown thread event type "${event.type}"`);
  return { type: event.type, data: schema.parse(event.data) } as NewEvent;
}

export type EventOf<T extends EventType> = Extract<ThreadEvent, { type: T }>;

export function eventsOf<T extends EventType>(events: readonly ThreadEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

export function lastOf<T extends EventType>(events: readonly ThreadEvent[], type: T): EventOf<T> | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === type) return e as EventOf<T>;
  }
  return undefined;
}

/** A thread: its identity and its events. */
export interface Thread {
  id: string;
  repo: string; // owner/name
  installationId: number;
  createdAt: string;
  events: ThreadEvent[];
}

export const THREAD_STATUSES = [
  "running",
  "waiting_for_deploy",
  "waiting_for_approval",
  "waiting_for_human",
  "waiting_for_lock",
  "paused",
  "done",
  "failed",
  "cancelled",
] as const;
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

/** The statuses of a thread that has not ended (a paused one included). */
export const UNFINISHED_STATUSES = THREAD_STATUSES.filter(
  (s): s is Exclude<ThreadStatus, "done" | "failed" | "cancelled"> =>
    s !== "done" && s !== "failed" && s !== "cancelled",
);
