import type { RepoConfig } from "../config/repo-config.js";
import type { Thread, ThreadEvent } from "./events.js";
import { configOf, deriveState, type ThreadState } from "./state.js";

/**
 * A thread as one step sees it: its events, the state derived from them and its repository config,
 * each computed once. A step that appends extends the view with what it appended instead of reading
 * the thread back from the store.
 */
export interface ThreadView {
  thread: Thread;
  state: ThreadState;
  config: RepoConfig | null;
}

export function viewOf(thread: Thread): ThreadView {
  return { thread, state: deriveState(thread.events), config: configOf(thread.events) };
}

/** The view after `added` (stored events, with their seqs) were appended to its thread. */
export function extendView(view: ThreadView, added: readonly ThreadEvent[]): ThreadView {
  if (added.length === 0) return view;
  const thread = { ...view.thread, events: [...view.thread.events, ...added] };
  const config = added.some((e) => e.type === "config_loaded") ? configOf(thread.events) : view.config;
  return { thread, state: deriveState(thread.events), config };
}
