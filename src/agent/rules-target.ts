import type { RepoConfig } from "../config/repo-config.js";
import { eventsOf, lastOf, type ThreadEvent } from "../thread/events.js";
import { changedComponents } from "../thread/state.js";
import { short } from "../thread/text.js";
import { rollbackTargetAt, runningAt } from "../thread/versions.js";
import { ask, DEPLOY, mentioned, type RawStep, ROLLBACK } from "./rules-vocabulary.js";

/** What a thread is about for the rules decider: a merge's commit and components, or a request's. */

/** What the thread is about: a merge's commit and changed components, or a request's. */
export interface Target {
  sha: string;
  components: string[];
  /** The last environment to reach; a merge goes to the last one. */
  until: string;
  origin: string;
}

/** The thread's merge, or the commit and components a request's words name; else what to ask. */
export function targetOf(
  events: readonly ThreadEvent[],
  config: RepoConfig,
): { target: Target } | { step: RawStep } {
  const found = targetOrStep(events, config);
  return "sha" in found && Array.isArray(found.components)
    ? { target: found as Target }
    : { step: found as RawStep };
}

function targetOrStep(events: readonly ThreadEvent[], config: RepoConfig): Target | RawStep {
  const merged = lastOf(events, "pr_merged");
  const last = config.environments[config.environments.length - 1]!.name;
  if (merged) {
    const changed = changedComponents(events);
    return {
      sha: merged.data.merge_sha,
      components: Object.keys(config.components).filter((c) => changed.includes(c)),
      until: last,
      origin: `PR #${merged.data.number}`,
    };
  }
  const request = lastOf(events, "chat_request");
  const head = lastOf(events, "branch_head");
  if (!request) return ask("What should I deploy?", "this thread has no merge and no request");
  // Every word humans said in this thread counts: "deploy to staging", then "the frontend".
  const text = [request.data.text, ...eventsOf(events, "human_answered").map((a) => a.data.answer)].join(
    " \n ",
  );
  const components = Object.keys(config.components);
  const environments = config.environments.map((e) => e.name);
  const component = mentioned(text, components) ?? (components.length === 1 ? components[0] : undefined);
  const environment = mentioned(text, environments);
  if (!component || !environment) {
    return ask(
      `Which component (${components.join(", ")}) and environment (${environments.join(", ")})?`,
      "the request names no known component and environment",
    );
  }
  if (ROLLBACK.test(text)) {
    const targetSha = rollbackTargetAt(events, component, environment);
    const running = runningAt(events, component, environment);
    if (!targetSha || targetSha === running?.sha) {
      return ask(
        `I know no earlier good version of ${component} in ${environment}. Which commit should I roll back to?`,
        "no previous successful deploy recorded there",
      );
    }
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: targetSha,
      reason: `requested: roll back ${component} in ${environment} to the good commit before ${short(running?.sha ?? "the current one")}`,
    };
  }
  if (!head || !DEPLOY.test(text)) {
    return ask(
      'Should I deploy or roll back? Say e.g. "deploy the frontend to staging".',
      "the request is neither a deploy nor a rollback",
    );
  }
  return { sha: head.data.sha, components: [component], until: environment, origin: "requested" };
}
