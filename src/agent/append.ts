import { AppendConflictError } from "../store/store.js";
import type { NewEvent, Thread, ThreadEvent } from "../thread/events.js";
import type { LoopDeps } from "./loop-deps.js";

type AppendDeps = Pick<LoopDeps, "store" | "clock">;

export function lastSeqOf(thread: Thread): number {
  return thread.events.at(-1)?.seq ?? 0;
}

/**
 * Appends after the last event of `thread` as the caller read it (AppendConflictError when another
 * writer came first), passing those events so the store derives the status without reading back.
 * Returns the stored events, with their seqs, so the caller can go on without reading the thread.
 */
export async function append(deps: AppendDeps, thread: Thread, events: NewEvent[]): Promise<ThreadEvent[]> {
  if (events.length === 0) return [];
  return deps.store.appendEvents(thread.id, lastSeqOf(thread), events, deps.clock(), thread.events);
}

/**
 * `append`, or null when another writer came first: the caller reads the thread again and decides
 * anew. Any other failure is thrown.
 */
export async function appendUnlessMoved(
  deps: AppendDeps,
  thread: Thread,
  events: NewEvent[],
): Promise<ThreadEvent[] | null> {
  try {
    return await append(deps, thread, events);
  } catch (error) {
    if (error instanceof AppendConflictError) return null;
    throw error;
  }
}

/** The thread as it is after `added` (just appended to it), without reading it again. */
export function withAppended(thread: Thread, added: readonly ThreadEvent[]): Thread {
  return added.length === 0 ? thread : { ...thread, events: [...thread.events, ...added] };
}
