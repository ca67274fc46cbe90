import {
  parseEvent,
  validateNewEvent,
  type NewEvent,
  type ThreadEvent,
  type ThreadStatus,
} from "../thread/events.js";
import { clip } from "../thread/text.js";
import type { DeploymentRecord, InboxEntry, InboxSource, Lock, ManualLock, ThreadSummary } from "./store.js";

/**
 * Rows as both dialects return them (integers as numbers, timestamps as ISO strings, JSON columns as
 * text), their mappers, and what the store does the same way to the values it writes.
 */

export interface ThreadRow {
  id: string;
  repo: string;
  installation_id: number;
  title: string;
  status: string;
  waiting_on: string | null;
  created_at: string;
  updated_at: string;
  last_seq: number;
}

export interface EventRow {
  seq: number;
  type: string;
  at: string;
  data: string;
}

export interface InboxRow {
  id: number;
  delivery_id: string;
  source: string;
  kind: string;
  payload: string;
  attempts: number;
  received_at: string;
  partition_key: string | null;
}

export interface LockRow {
  key: string;
  thread_id: string;
  step_seq: number;
  acquired_at: string;
}

export interface DeploymentRow {
  deployment_id: number;
  repo: string;
  component: string;
  environment: string;
  sha: string;
  thread_id: string;
  step_seq: number;
  run_id: number | null;
  state: string;
  created_at: string;
  finished_at: string | null;
}

export interface ManualLockRow {
  repo: string;
  environment: string;
  /** "" for a lock on the whole environment (a key column cannot be NULL). */
  component: string;
  reason: string;
  locked_by: string;
  locked_at: string;
}

export const toSummary = (row: ThreadRow): ThreadSummary => ({
  id: row.id,
  repo: row.repo,
  installationId: row.installation_id,
  title: row.title,
  status: row.status as ThreadStatus,
  waitingOn: row.waiting_on,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  lastSeq: row.last_seq,
});

export const toEvent = (row: EventRow): ThreadEvent =>
  parseEvent({ seq: row.seq, at: row.at, type: row.type, data: JSON.parse(row.data) as unknown });

export const toInboxEntry = (row: InboxRow): InboxEntry => ({
  id: row.id,
  deliveryId: row.delivery_id,
  source: row.source as InboxSource,
  kind: row.kind,
  payload: JSON.parse(row.payload) as unknown,
  partition: row.partition_key,
  attempts: row.attempts,
  receivedAt: row.received_at,
});

export const toLock = (row: LockRow): Lock => ({
  key: row.key,
  threadId: row.thread_id,
  stepSeq: row.step_seq,
  acquiredAt: row.acquired_at,
});

export const toDeployment = (row: DeploymentRow): DeploymentRecord => ({
  deploymentId: row.deployment_id,
  repo: row.repo,
  component: row.component,
  environment: row.environment,
  sha: row.sha,
  threadId: row.thread_id,
  stepSeq: row.step_seq,
  runId: row.run_id,
  state: row.state as DeploymentRecord["state"],
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

export const toManualLock = (row: ManualLockRow): ManualLock => ({
  repo: row.repo,
  environment: row.environment,
  component: row.component === "" ? null : row.component,
  reason: row.reason,
  by: row.locked_by,
  at: row.locked_at,
});

const MAX_TEXT = 1000;

/** Inbox notes and errors are kept short. */
export const clipNote = (s: string | null): string | null => (s === null ? null : clip(s, MAX_TEXT));

/** Validates new events and numbers them from `firstSeq`, all stamped with one time. */
export function stamp(events: NewEvent[], firstSeq: number, at: string): ThreadEvent[] {
  return events.map((e, i) => ({ ...validateNewEvent(e), seq: firstSeq + i, at }) as ThreadEvent);
}

/** The caller's events count only when they are exactly the stored ones up to `expectedSeq`. */
export function usablePrior(
  prior: readonly ThreadEvent[] | undefined,
  expectedSeq: number,
): readonly ThreadEvent[] | null {
  if (!prior) return null;
  const last = prior.at(-1)?.seq ?? 0;
  return last === expectedSeq && prior.length === expectedSeq ? prior : null;
}
