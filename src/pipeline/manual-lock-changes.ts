import { z } from "zod";
import type { LoopDeps } from "../agent/loop-deps.js";
import { lockTargetProblem } from "../config/lock-target.js";
import { REPO_CONFIG_PATH, type RepoConfig } from "../config/repo-config.js";
import { placeText } from "../github/lock-command.js";
import { loadRepoConfig, type Octokit } from "../github/repository.js";
import { manualLockText } from "../agent/policy/manual-locks.js";
import { manualLockWaitKey } from "../thread/hold-keys.js";
import { clip, repoRefOf } from "../thread/text.js";
import { INTERNAL_KINDS, type WakeThread } from "./internal-entries.js";

/**
 * A person locks or unlocks a place, from any channel: checked against the repository's config,
 * written to the store, and, on unlock, the threads the lock held are woken (each through an
 * `internal.wake` entry its owner handles). Returns the answer to give on the channel.
 */

export const LockChange = z.object({
  action: z.enum(["lock", "unlock"]),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  environment: z.string().min(1),
  component: z.string().nullable(),
  /** Required to lock; ignored to unlock. */
  reason: z.string().nullable(),
  /** Who: a GitHub login, a Slack user id or `api:<name>`. */
  by: z.string().min(1),
});
export type LockChange = z.infer<typeof LockChange>;

export interface LockOutcome {
  /** Whether the lock is now as asked (locked, or unlocked). */
  ok: boolean;
  text: string;
}

/** The repository's config as its default branch has it now, or what is wrong. */
export async function currentConfig(
  octokit: Octokit,
  repo: string,
): Promise<{ config: RepoConfig } | { problem: string }> {
  const loaded = await loadRepoConfig(octokit, repoRefOf(repo));
  if (loaded.kind === "ok") return { config: loaded.config };
  return {
    problem:
      loaded.kind === "missing"
        ? `${repo} has no ${REPO_CONFIG_PATH}`
        : `${loaded.file} is invalid: ${clip(loaded.problems.join("; "), 500)}`,
  };
}

export async function changeManualLock(
  deps: LoopDeps,
  config: RepoConfig,
  change: LockChange,
): Promise<LockOutcome> {
  const { repo, environment, component } = change;
  const problem = lockTargetProblem(config, environment, component);
  if (problem) return { ok: false, text: `Nothing changed: ${problem}.` };
  const place = placeText(environment, component);
  if (change.action === "lock") {
    const reason = change.reason?.trim() ?? "";
    if (reason === "") return { ok: false, text: `Nothing locked: say why ${place} is locked.` };
    const set = await deps.store.setManualLock({
      repo,
      environment,
      component,
      reason,
      by: change.by,
      at: deps.clock(),
    });
    if (!set.created) return { ok: true, text: `Already locked: ${manualLockText(set.lock)}.` };
    deps.log.info({ repo }, `${change.by} locked ${place}`);
    return {
      ok: true,
      text: `Locked ${place} of ${repo}: deploys and rollbacks there wait until it is unlocked.`,
    };
  }
  const removed = await deps.store.removeManualLock(repo, environment, component);
  if (!removed) return { ok: false, text: `Nothing changed: ${place} of ${repo} is not locked.` };
  const woken = await wakeHeldThreads(deps, config, removed);
  deps.log.info({ repo }, `${change.by} unlocked ${place}; woke ${woken} thread(s)`);
  const wakes = woken === 0 ? "no thread was waiting for it" : `woke ${woken} waiting thread(s)`;
  return { ok: true, text: `Unlocked ${place} of ${repo} (${manualLockText(removed)}); ${wakes}.` };
}

/**
 * Queues a wake for every thread a lifted lock held: a lock on a whole environment held each
 * component there. A thread another lock still holds waits again when it is judged.
 */
async function wakeHeldThreads(
  deps: LoopDeps,
  config: RepoConfig,
  lifted: { repo: string; environment: string; component: string | null; at: string },
): Promise<number> {
  const components = lifted.component === null ? Object.keys(config.components) : [lifted.component];
  let woken = 0;
  for (const component of components) {
    const key = manualLockWaitKey(lifted.repo, component, lifted.environment);
    for (const thread of await deps.store.threadsWaitingForLock(key)) {
      const payload: WakeThread = {
        thread_id: thread.id,
        reason: `${placeText(lifted.environment, lifted.component)} was unlocked`,
      };
      await deps.store.enqueue(
        {
          deliveryId: `wake:unlock:${key}:${lifted.at}:${thread.id}`,
          source: "internal",
          kind: INTERNAL_KINDS.wake,
          payload,
          partition: lifted.repo,
        },
        deps.clock(),
      );
      woken += 1;
    }
  }
  return woken;
}
