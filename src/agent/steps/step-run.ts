import type { RepoConfig } from "../../config/repo-config.js";
import { repoRefOf, type RepoRef } from "../../thread/text.js";
import { newEvent, type EventOf, type NewEvent, type Thread, type ThreadEvent } from "../../thread/events.js";
import { extendView, type ThreadView } from "../../thread/view.js";
import { append } from "../append.js";
import type { LoopDeps } from "../loop-deps.js";

/**
 * One run of a thread forward, as its steps share it: the view of the thread (extended with each
 * append, never read back) and the writes whose intent this very run recorded.
 */
export interface StepRun {
  deps: LoopDeps;
  view: ThreadView;
  /**
   * Writes (Slack posts, GitHub deployments and dispatches) whose intent this run recorded: no
   * earlier attempt to look for. Any other recorded intent is a doubt: look before writing.
   */
  intentsHere: Set<string>;
}

/** Appends after the run's view of the thread and extends the view with what was stored. */
export async function record(run: StepRun, events: NewEvent[]): Promise<ThreadEvent[]> {
  const added = await append(run.deps, run.view.thread, events);
  run.view = extendView(run.view, added);
  return added;
}

/** How a GitHub write stands: recorded by this run (write at once) or earlier (look first). */
export interface WriteIntent {
  recovering: boolean;
  recordedAt: string;
}

/**
 * Records the intent of a GitHub write before making it, so that after any doubt the write is
 * looked for before it is made again. Returns null when it just recorded it (the loop plans again).
 */
export async function recordIntent(run: StepRun, key: string): Promise<WriteIntent | null> {
  const recorded = run.view.thread.events.findLast((e) => e.type === "github_writing" && e.data.key === key);
  if (!recorded) {
    await record(run, [newEvent("github_writing", { key })]);
    run.intentsHere.add(key);
    return null;
  }
  return { recovering: !run.intentsHere.has(key), recordedAt: recorded.at };
}

/** What a GitHub write of an authorised step works with: the thread, its config, the repository. */
export interface StepWrite {
  deps: LoopDeps;
  thread: Thread;
  config: RepoConfig;
  ref: RepoRef;
  a: EventOf<"deploy_authorized">["data"];
}

export function stepWrite(run: StepRun, authorized: EventOf<"deploy_authorized">): StepWrite {
  const { thread } = run.view;
  return {
    deps: run.deps,
    thread,
    config: run.view.config!,
    ref: repoRefOf(thread.repo),
    a: authorized.data,
  };
}
