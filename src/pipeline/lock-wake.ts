import { appendUnlessMoved, withAppended } from "../agent/append.js";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { supersessions, type QueuedMerge } from "../agent/supersede.js";
import { lastOf, newEvent } from "../thread/events.js";
import { changedComponents, deriveState } from "../thread/state.js";
import {
  INTERNAL_KINDS,
  type LockReleased,
  type SupersedeThread,
  type WakeThread,
} from "./internal-entries.js";
import { short } from "../thread/text.js";

/**
 * What happens when a deploy lock frees: the threads deferred on it are read (not touched), queued
 * merges that a newer one covers are superseded, and the others are woken, each through an entry of
 * its own that the thread's owner handles.
 */

export async function handleLockReleased(
  deps: LoopDeps,
  released: LockReleased,
  deliveryId: string,
): Promise<string> {
  const waiting = (await deps.store.threadsWaitingForLock(released.lock_key)).filter(
    (t) => t.id !== released.released_by,
  );
  const queued: QueuedMerge[] = [];
  for (const summary of waiting) {
    const thread = await deps.store.getThread(summary.id);
    const merged = thread ? lastOf(thread.events, "pr_merged") : undefined;
    if (!thread || !merged) continue;
    queued.push({
      threadId: thread.id,
      createdAt: thread.createdAt,
      number: merged.data.number,
      mergeSha: merged.data.merge_sha,
      components: changedComponents(thread.events),
    });
  }
  const superseded = new Set<string>();
  for (const { older, newer } of supersessions(queued)) {
    superseded.add(older.threadId);
    const payload: SupersedeThread = {
      thread_id: older.threadId,
      lock_key: released.lock_key,
      message: `Superseded by #${newer.number} (${short(newer.mergeSha)}), merged later: it deploys ${newer.components.join(", ")} with these changes included, so deploying #${older.number} first would ship stale code.`,
    };
    await deps.store.enqueue(
      {
        deliveryId: `supersede:${older.threadId}:${newer.threadId}`,
        source: "internal",
        kind: INTERNAL_KINDS.supersede,
        payload,
        partition: released.repo,
      },
      deps.clock(),
    );
  }
  for (const thread of waiting) {
    if (superseded.has(thread.id)) continue;
    const payload: WakeThread = { thread_id: thread.id, reason: `lock ${released.lock_key} is free` };
    await deps.store.enqueue(
      {
        deliveryId: `wake:${deliveryId}:${thread.id}`,
        source: "internal",
        kind: INTERNAL_KINDS.wake,
        payload,
        partition: released.repo,
      },
      deps.clock(),
    );
  }
  return `woke ${waiting.length - superseded.size}, superseded ${superseded.size}`;
}

export async function wakeThread(deps: LoopDeps, wake: WakeThread): Promise<string> {
  await advanceThread(deps, wake.thread_id);
  return `thread ${wake.thread_id} advanced: ${wake.reason}`;
}

/** Ends a queued merge a newer one covers, unless it moved on since (then it is only woken). */
export async function supersedeThread(deps: LoopDeps, supersede: SupersedeThread): Promise<string> {
  await deps.own?.(supersede.thread_id);
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = await deps.store.getThread(supersede.thread_id);
    if (!thread) return `skipped: thread ${supersede.thread_id} not found`;
    const state = deriveState(thread.events);
    if (state.status !== "waiting_for_lock" || state.deferred?.data.lock_key !== supersede.lock_key) {
      await advanceThread(deps, thread.id, thread);
      return `skipped: thread ${thread.id} no longer waits for ${supersede.lock_key}`;
    }
    const appended = await appendUnlessMoved(deps, thread, [
      newEvent("done", { message: supersede.message, by: "code" }),
    ]);
    if (!appended) continue;
    deps.log.info({ thread: thread.id }, supersede.message);
    await advanceThread(deps, thread.id, withAppended(thread, appended)); // posts the explanation to Slack
    return `thread ${thread.id} superseded`;
  }
  throw new Error(`thread ${supersede.thread_id} kept moving while being superseded`);
}
