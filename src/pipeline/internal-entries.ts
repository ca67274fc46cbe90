import { z } from "zod";
import type { InboxEntryInput } from "../store/store.js";

/**
 * Work deploybot queues for itself, handled by the worker like any webhook: a thread never advances
 * another thread inline, it queues an entry, and the other thread's owner handles it.
 */

/** A deploy lock was freed: the threads waiting for it are woken (or superseded). */
export const LockReleased = z.object({
  lock_key: z.string().min(1),
  repo: z.string().min(1),
  released_by: z.string().min(1),
});
export type LockReleased = z.infer<typeof LockReleased>;

/** A thread to advance: it may move now (a lock it waited for is free). */
export const WakeThread = z.object({ thread_id: z.string().min(1), reason: z.string() });
export type WakeThread = z.infer<typeof WakeThread>;

/** A queued merge that a newer queued merge covers: ended with the message, if it still waits. */
export const SupersedeThread = z.object({
  thread_id: z.string().min(1),
  lock_key: z.string().min(1),
  message: z.string().min(1),
});
export type SupersedeThread = z.infer<typeof SupersedeThread>;

export const INTERNAL_KINDS = {
  lockReleased: "internal.lock_released",
  wake: "internal.wake",
  supersede: "internal.supersede",
} as const;

/** Unique per release of a step's lock: a replay after a crash queues nothing twice. */
export function lockReleasedEntry(payload: LockReleased, stepSeq: number): InboxEntryInput {
  return {
    deliveryId: `lock-released:${payload.released_by}:${stepSeq}:${payload.lock_key}`,
    source: "internal",
    kind: INTERNAL_KINDS.lockReleased,
    payload,
    partition: payload.repo,
  };
}
