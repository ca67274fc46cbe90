import type { RepoConfig } from "../config/repo-config.js";
import { eventsOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import { oneLine, short, truncate } from "../thread/text.js";
import { recordedCi, runningAt } from "../thread/versions.js";
import { deployActionOf } from "../thread/next-step.js";
import { ask, deploy, done, FIRST, mentioned, type RawStep } from "./rules-vocabulary.js";
import { type Target } from "./rules-target.js";

/** The rules decider's plan: promote the target through the environments, or follow a rejection's plan. */

/**
 * The next deploy towards `target`, environment by environment; or null when every component is
 * already there. Reads CI (per the environment's `ci`) and what runs where (a newer commit that
 * contains this one is not deployed over).
 */
export function promote(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  target: Target,
  prefer?: string,
): RawStep | null {
  const { successes } = deriveState(events);
  const last = config.environments.findIndex((e) => e.name === target.until);
  const ci = recordedCi(events, target.sha)?.data;
  const order = prefer ? [prefer, ...target.components.filter((c) => c !== prefer)] : target.components;
  for (const environment of config.environments.slice(0, last + 1)) {
    for (const component of order) {
      const there = (sha: string) =>
        successes.some(
          (s) => s.component === component && s.environment === environment.name && s.sha === sha,
        );
      const running = runningAt(events, component, environment.name);
      if (there(target.sha) || running?.sha === target.sha) continue;
      const newer = eventsOf(events, "commits_compared").some(
        (c) =>
          c.data.head === target.sha &&
          c.data.status === "behind" &&
          (running ? c.data.base === running.sha : true),
      );
      const refusedAsBehind = eventsOf(events, "policy_refused").some((r) => {
        const action = deployActionOf(r.data.step);
        return (
          action?.component === component && action.sha === target.sha && /\bis behind\b/.test(r.data.reason)
        );
      });
      if (newer || refusedAsBehind) {
        return done(
          `stopped: ${environment.name} already runs a newer commit that contains ${short(target.sha)}; nothing to deploy there`,
        );
      }
      if (environment.ci !== "ignore" && ci?.state === "failure") {
        return ask(
          `CI of ${short(target.sha)} failed (${truncate(oneLine(ci.summary), 200) || "no details"}); ${environment.name} takes no commit whose checks failed. Should I stop, or wait for a fix?`,
          "the commit's CI failed",
        );
      }
      if (environment.ci === "passing" && ci?.state === "none") {
        return ask(
          `No CI reported for ${short(target.sha)}, and ${environment.name} needs passing checks. What should I do?`,
          "no CI to rely on",
        );
      }
      return deploy(
        { component, environment: environment.name, sha: target.sha },
        target.origin !== "requested"
          ? `promote ${short(target.sha)} to ${environment.name}`
          : environment.name === target.until
            ? `requested ${target.until}`
            : `requested ${target.until}; ${environment.name} comes first`,
      );
    }
  }
  return null;
}

/** The plan a rejection names: another component first, in the rejected step's environment. */
export function afterRejection(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  target: Target | null,
  rejection: EventOf<"approval_rejected">,
  requested: EventOf<"approval_requested">,
): RawStep {
  const reason = truncate(oneLine(rejection.data.reason) || "no reason given", 300);
  const rejectedAction = deployActionOf(requested.data.step);
  const first = mentioned(
    rejection.data.reason,
    Object.keys(config.components).filter((c) => c !== rejectedAction?.component),
  );
  if (
    target &&
    rejectedAction?.kind === "deploy" &&
    first &&
    first !== rejectedAction.component &&
    FIRST.test(rejection.data.reason) &&
    target.components.includes(first)
  ) {
    const step = promote(events, config, { ...target, until: rejectedAction.environment }, first);
    if (step && step.intent === `deploy_${first}`) return { ...step, reason: `a human asked: ${reason}` };
  }
  const what = rejectedAction
    ? `${rejectedAction.kind} of ${rejectedAction.component} to ${rejectedAction.environment}`
    : "step";
  return done(`stopped: the ${what} was rejected: ${reason}`);
}
