import type { RepoConfig } from "../config/repo-config.js";
import { lastOf, type ThreadEvent } from "../thread/events.js";
import { short } from "../thread/text.js";
import {
  commitResolverOf,
  knownNames,
  type Decider,
  type DecisionMetaData,
  type DecisionRequest,
  type DecisionResult,
} from "./decide.js";
import { deployActionOf, parseNextStep } from "../thread/next-step.js";
import { ask, deploy, done, type RawStep, RETRY, ROLLBACK, STOP } from "./rules-vocabulary.js";
import {
  afterFailure,
  authorizationOf,
  endedApproval,
  failedVerification,
  isLatest,
} from "./rules-history.js";
import { targetOf } from "./rules-target.js";
import { afterRejection, promote } from "./rules-promote.js";

/**
 * The deterministic decider: the same inputs and the same JSON as the model, from the events alone.
 * It is the offline default and the baseline a model is compared against. It reads the humans'
 * answers (retry, stop, which component), rejections that name a plan ("frontend first"), CI, the
 * deployed versions and GitHub's comparisons; its answers go through the same validation as the
 * model's, and the policy judges them the same way.
 */

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
  const unverified = failedVerification(events);
  if (unverified) {
    if (answer && answer.seq > unverified.seq && STOP.test(answer.data.answer)) {
      return done(`stopped after the failed verification in ${unverified.data.environment}, as asked`);
    }
    return afterFailure(events, unverified);
  }
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
