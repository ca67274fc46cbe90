import type { RepoConfig } from "../config/repo-config.js";
import type { Thread } from "../thread/events.js";
import { eventLine, isResolved } from "./context-events.js";
import {
  renderCi,
  renderCommits,
  renderDeployed,
  renderProgress,
  renderRepository,
} from "./context-sections.js";

/**
 * The model's context, built by code from the thread's events: the repository, the commits the
 * thread is about (with the labels an answer may use instead of 40 hex digits), a progress table,
 * what runs where with each place's rollback target, CI, then one line per event that matters for
 * the next step. Text from outside is quoted as data inside `<untrusted>` and cut to a bound; `<`
 * and `>` inside it become `‹` and `›`, so nothing quoted can look like one of the context's tags.
 */

export function allowedIntents(config: RepoConfig): string[] {
  return [
    ...Object.keys(config.components).map((c) => `deploy_${c}`),
    "rollback",
    "ask_human",
    "done_for_now",
  ];
}

/** The model's context: the repository, commits, progress, what runs where, CI, events, the question. */
export function renderContext(thread: Thread, config: RepoConfig): string {
  const { events } = thread;
  const lastSuccessSeq = events.reduce(
    (seq, event) => (event.type === "deploy_finished" && event.data.outcome === "success" ? event.seq : seq),
    0,
  );
  const lines = events
    .filter((event) => !isResolved(event, lastSuccessSeq))
    .map((event) => eventLine(event, events, config))
    .filter((line): line is string => line !== null);
  return [
    renderRepository(thread, config),
    ...renderCommits(events),
    ...renderProgress(events, config),
    ...renderDeployed(events, config),
    ...renderCi(events),
    "<events>",
    ...lines,
    "</events>",
    "<question>What is the next step? Answer with one JSON object.</question>",
    `<allowed_intents>${allowedIntents(config).join(", ")}</allowed_intents>`,
  ].join("\n");
}
