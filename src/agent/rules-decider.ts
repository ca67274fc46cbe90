import type { RepoConfig } from "../config/repo-config.js";
import { eventsOf, lastOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { changedComponents, deriveState } from "../thread/state.js";
import { oneLine, short, truncate } from "../thread/text.js";
import { recordedCi, rollbackTargetAt, runningAt } from "../thread/versions.js";
import {
  commitResolverOf,
  knownNames,
  type Decider,
  type DecisionMetaData,
  type DecisionRequest,
  type DecisionResult,
} from "./decide.js";
import { deployActionOf, parseNextStep, type DeployAction } from "../thread/next-step.js";

/**
 * The deterministic decider: the same inputs and the same JSON as the model, from the events alone.
 * It is the offline default and the baseline a model is compared against. It reads the humans'
 * answers (retry, stop, which component), rejections that name a plan ("frontend first"), CI, the
 * deployed versions and GitHub's comparisons; its answers go through the same validation as the
 * model's, and the policy judges them the same way.
 */

/** The proposed step as raw JSON, before validation. */
type RawStep = Record<string, string>;

const RETRY = /\b(retry|try again|again|re-?run|redeploy|go ahead|proceed)\b/i;
const STOP = /\b(stop|cancel|abort|leave it|don'?t|do not|no\b|halt|skip)/i;
const ROLLBACK = /\broll\s*-?\s*back\b|\brevert\b/i;
const DEPLOY = /\b(deploy|ship|release|promote|push)\b/i;
const FIRST = /\b(first|before)\b/i;

const done = (message: string): RawStep => ({ intent: "done_for_now", message: truncate(message, 1_000) });
const ask = (question: string, reason: string): RawStep => ({
  intent: "ask_human",
  question: truncate(question, 1_000),
  reason,
});
const deploy = (
  action: Pick<DeployAction, "component" | "environment" | "sha">,
  reason: string,
): RawStep => ({
  intent: `deploy_${action.component}`,
  environment: action.environment,
  sha: action.sha,
  reason,
});

/** The first of `names` that the text mentions as a word. */
function mentioned(text: string, names: string[]): string | undefined {
  const words = new Set(text.toLowerCase().split(/[^a-z0-9_-]+/));
  return names.find((name) => words.has(name.toLowerCase()));
}

/** The authorization that started the run a result belongs to: the last one for that place before it. */
function authorizationOf(
  events: readonly ThreadEvent[],
  finished: EventOf<"deploy_finished">,
): EventOf<"deploy_authorized"> | undefined {
  return eventsOf(events, "deploy_authorized")
    .filter(
      (a) =>
        a.seq < finished.seq &&
        a.data.component === finished.data.component &&
        a.data.environment === finished.data.environment,
    )
    .at(-1);
}

function afterFailure(events: readonly ThreadEvent[], failed: EventOf<"deploy_finished">): RawStep {
  const { component, environment, sha, summary } = failed.data;
  const target = rollbackTargetAt(events, component, environment);
  if (target && target !== sha) {
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: target,
      reason: `the deploy of ${component} ${short(sha)} to ${environment} failed; ${short(target)} ran there before`,
    };
  }
  const what = summary.trim() ? truncate(oneLine(summary), 300) : "no details";
  return ask(
    `The deploy of ${component} to ${environment} failed (${what}). Retry, or stop?`,
    `no earlier good version of ${component} in ${environment} to roll back to`,
  );
}

/** The last approval request, when a human rejected it or it expired, and how. */
function endedApproval(
  events: readonly ThreadEvent[],
):
  | { how: "rejected"; event: EventOf<"approval_rejected">; requested: EventOf<"approval_requested"> }
  | { how: "expired"; event: EventOf<"approval_expired">; requested: EventOf<"approval_requested"> }
  | null {
  const requested = lastOf(events, "approval_requested");
  if (!requested) return null;
  const rejected = lastOf(events, "approval_rejected");
  if (rejected && rejected.seq > requested.seq && rejected.data.approval_id === requested.data.approval_id) {
    return { how: "rejected", event: rejected, requested };
  }
  const expired = lastOf(events, "approval_expired");
  if (expired && expired.seq > requested.seq && expired.data.approval_id === requested.data.approval_id) {
    return { how: "expired", event: expired, requested };
  }
  return null;
}

/** Whether `seq` is the thread's latest human or deploy fact, so nothing has moved on since. */
function isLatest(events: readonly ThreadEvent[], seq: number): boolean {
  return !events.some(
    (e) =>
      e.seq > seq &&
      [
        "deploy_finished",
        "human_answered",
        "approval_rejected",
        "approval_granted",
        "approval_expired",
      ].includes(e.type),
  );
}

/** What the thread is about: a merge's commit and changed components, or a request's. */
interface Target {
  sha: string;
  components: string[];
  /** The last environment to reach; a merge goes to the last one. */
  until: string;
  origin: string;
}

/**
 * The next deploy towards `target`, environment by environment; or null when every component is
 * already there. Reads CI (per the environment's `ci`) and what runs where (a newer commit that
 * contains this one is not deployed over).
 */
function promote(
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
function afterRejection(
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

/** The thread's merge, or the commit and components a request's words name; else what to ask. */
function targetOf(
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

function nextStep(events: readonly ThreadEvent[], config: RepoConfig): RawStep {
  const ended = endedApproval(events);
  if (ended?.how === "expired" && isLatest(events, ended.event.seq)) {
    const action = deployActionOf(ended.requested.data.step);
    return done(
      `stopped: nobody approved the ${action ? `${action.kind} to ${action.environment}` : "step"} before the approval expired; ask again to deploy it later`,
    );
  }

  const found = targetOf(events, config);
  if ("step" in found) {
    // A request thread that still needs words from a human; a finished rollback ends it.
    const finished = lastOf(events, "deploy_finished");
    if (finished?.data.outcome === "success" && authorizationOf(events, finished)?.data.kind === "rollback") {
      return done(
        `rolled back ${finished.data.component} in ${finished.data.environment} to ${short(finished.data.sha)}`,
      );
    }
    return found.step;
  }
  const goal = found.target;

  if (ended?.how === "rejected" && isLatest(events, ended.event.seq)) {
    return afterRejection(events, config, goal, ended.event, ended.requested);
  }

  const finished = lastOf(events, "deploy_finished");
  const answer = lastOf(events, "human_answered");
  if (finished?.data.outcome === "failure") {
    if (answer && answer.seq > finished.seq) {
      const words = answer.data.answer;
      if (STOP.test(words) && !RETRY.test(words)) {
        return done(
          `stopped after the failed deploy of ${finished.data.component} to ${finished.data.environment}, as asked`,
        );
      }
      if (RETRY.test(words)) {
        return deploy(
          finished.data,
          `a human asked to retry the failed deploy to ${finished.data.environment}`,
        );
      }
      if (ROLLBACK.test(words)) return afterFailure(events, finished);
      return ask("Should I retry the failed deploy, or stop?", "the answer was neither retry nor stop");
    }
    return afterFailure(events, finished);
  }
  if (finished && authorizationOf(events, finished)?.data.kind === "rollback") {
    const { component, environment, sha } = finished.data;
    return done(`rolled back ${component} in ${environment} to ${short(sha)}`);
  }
  if (
    answer &&
    STOP.test(answer.data.answer) &&
    !RETRY.test(answer.data.answer) &&
    isLatest(events, answer.seq)
  ) {
    return done("stopped, as a human asked");
  }

  if (goal.components.length === 0) return done(`nothing to deploy: ${goal.origin} changed no component`);
  const step = promote(events, config, goal);
  if (step) return step;
  const what = goal.components.join(", ");
  return done(
    goal.origin === "requested"
      ? `${what} ${short(goal.sha)} is live in ${goal.until}`
      : `deployed ${what} at ${short(goal.sha)} to ${goal.until}`,
  );
}

export function createRulesDecider(options: { clock?: () => number } = {}): Decider {
  const clock = options.clock ?? Date.now;
  return {
    name: "rules",
    async decide({ thread, config }: DecisionRequest): Promise<DecisionResult> {
      const started = clock();
      const raw = nextStep(thread.events, config);
      const meta: DecisionMetaData = {
        decider: "rules",
        model: "rules",
        prompt_hash: "rules-v2",
        tokens_in: null,
        tokens_out: null,
        latency_ms: Math.max(0, Math.round(clock() - started)),
      };
      const parsed = parseNextStep(raw, knownNames(config), commitResolverOf(thread));
      return parsed.ok ? { ok: true, step: parsed.step, meta } : { ok: false, error: parsed.error, meta };
    },
  };
}
