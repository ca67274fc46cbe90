import type { RepoConfig } from "../config/repo-config.js";
import { eventsOf, lastOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { truncate } from "../thread/render.js";
import { changedComponents, deriveState } from "../thread/state.js";
import {
  knownNames,
  type Decider,
  type DecisionMetaData,
  type DecisionRequest,
  type DecisionResult,
} from "./decide.js";
import { parseNextStep } from "./next-step.js";

/**
 * The deterministic decider: the same inputs and the same JSON as the model, from the events alone.
 * It is the offline default and the baseline a model is compared against. Its answers go through
 * the same validation as the model's, and the policy judges them the same way.
 */

const short = (sha: string) => sha.slice(0, 7);

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

/** The proposed step as raw JSON, before validation. */
type RawStep = Record<string, string>;

function afterFailure(events: readonly ThreadEvent[], failed: EventOf<"deploy_finished">): RawStep {
  const { component, environment, sha, summary } = failed.data;
  const previous = lastOf(events, "deployed_versions")?.data.entries.find(
    (e) => e.component === component && e.environment === environment,
  );
  if (previous?.sha && previous.sha !== sha) {
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: previous.sha,
      reason: `the deploy of ${component} ${short(sha)} to ${environment} failed; ${short(previous.sha)} ran there before`,
    };
  }
  const what = summary.trim() ? truncate(summary.replace(/\s+/g, " ").trim(), 500) : "no details";
  return {
    intent: "ask_human",
    question: `The deploy of ${component} to ${environment} failed: ${what}. What should I do?`,
    reason: `no earlier successful version of ${component} in ${environment} to roll back to`,
  };
}

function wasRejected(events: readonly ThreadEvent[]): EventOf<"approval_rejected"> | null {
  const requested = lastOf(events, "approval_requested");
  if (!requested) return null;
  const rejected = lastOf(events, "approval_rejected");
  if (!rejected || rejected.seq < requested.seq) return null;
  return rejected.data.approval_id === requested.data.approval_id ? rejected : null;
}

/** The last approval expired without a decision (nobody answered in time). */
function expiredApproval(events: readonly ThreadEvent[]): EventOf<"approval_requested"> | null {
  const requested = lastOf(events, "approval_requested");
  const expired = lastOf(events, "approval_expired");
  if (!requested || !expired || expired.seq < requested.seq) return null;
  return expired.data.approval_id === requested.data.approval_id ? requested : null;
}

function nextStep(events: readonly ThreadEvent[], config: RepoConfig): RawStep {
  const expired = expiredApproval(events);
  if (expired) {
    const step = expired.data.step;
    const environment = "environment" in step ? step.environment : "the";
    return {
      intent: "done_for_now",
      message: `stopped: nobody decided the ${environment} approval before it expired; ask in Slack to deploy it later`,
    };
  }
  const rejected = wasRejected(events);
  if (rejected) {
    const step = lastOf(events, "approval_requested")!.data.step;
    const environment = "environment" in step ? step.environment : "the";
    const reason = truncate(rejected.data.reason.replace(/\s+/g, " ").trim() || "no reason given", 500);
    return {
      intent: "done_for_now",
      message: `stopped: ${environment} deploy rejected by a human: ${reason}`,
    };
  }

  const finished = lastOf(events, "deploy_finished");
  if (finished?.data.outcome === "failure") return afterFailure(events, finished);
  if (finished && authorizationOf(events, finished)?.data.kind === "rollback") {
    const { component, environment, sha } = finished.data;
    return { intent: "done_for_now", message: `rolled back ${component} in ${environment} to ${short(sha)}` };
  }

  const merged = lastOf(events, "pr_merged");
  const request = lastOf(events, "chat_request");
  if (!merged && request) return fromRequest(events, config, request);
  if (!merged) {
    return {
      intent: "ask_human",
      question: "What should I deploy?",
      reason: "this thread was not started by a merge, and the rules decider only promotes merges",
    };
  }
  const sha = merged.data.merge_sha;
  const changed = changedComponents(events);
  const components = Object.keys(config.components).filter((c) => changed.includes(c));
  if (components.length === 0) {
    return {
      intent: "done_for_now",
      message: `nothing to deploy: PR #${merged.data.number} changed no component`,
    };
  }
  const { successes } = deriveState(events);
  for (const environment of config.environments) {
    for (const component of components) {
      const done = successes.some(
        (s) => s.component === component && s.environment === environment.name && s.sha === sha,
      );
      if (!done) {
        return {
          intent: `deploy_${component}`,
          environment: environment.name,
          sha,
          reason: `promote ${short(sha)} to ${environment.name}`,
        };
      }
    }
  }
  const last = config.environments[config.environments.length - 1]!.name;
  return { intent: "done_for_now", message: `deployed ${components.join(", ")} to ${last}` };
}

/** The first of `names` that the text mentions as a word. */
function mentioned(text: string, names: string[]): string | undefined {
  const words = new Set(text.toLowerCase().split(/[^a-z0-9_-]+/));
  return names.find((name) => words.has(name.toLowerCase()));
}

/**
 * A request in words ("deploy the frontend to staging", "roll back the backend in production"),
 * from Slack or from a human's latest answer. Deploys go through the earlier environments first.
 */
function fromRequest(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  request: EventOf<"chat_request">,
): RawStep {
  const answer = lastOf(events, "human_answered");
  const text = answer && answer.seq > request.seq ? answer.data.answer : request.data.text;
  const component = mentioned(text, Object.keys(config.components));
  const environments = config.environments.map((e) => e.name);
  const environment = mentioned(text, environments);
  const finished = lastOf(events, "deploy_finished");
  if (finished?.data.outcome === "success" && finished.data.environment === environment) {
    return {
      intent: "done_for_now",
      message: `${finished.data.component} ${short(finished.data.sha)} is live in ${finished.data.environment}`,
    };
  }
  if (!component || !environment) {
    return {
      intent: "ask_human",
      question: `Which component (${Object.keys(config.components).join(", ")}) and environment (${environments.join(", ")})?`,
      reason: "the request names no known component and environment",
    };
  }
  const deployed = lastOf(events, "deployed_versions")?.data.entries ?? [];
  if (/\broll\s*-?\s*back\b|\brevert\b/i.test(text)) {
    const entry = deployed.find((e) => e.component === component && e.environment === environment);
    if (!entry?.previous_sha) {
      return {
        intent: "ask_human",
        question: `I know no earlier good version of ${component} in ${environment}. Which commit should I roll back to?`,
        reason: "no previous successful deploy recorded there",
      };
    }
    return {
      intent: "rollback",
      component,
      environment,
      to_sha: entry.previous_sha,
      reason: `requested in Slack: roll back ${component} in ${environment} to the version before ${short(entry.sha ?? "")}`,
    };
  }
  const head = lastOf(events, "branch_head");
  if (!head || !/\b(deploy|ship|release|promote|push)\b/i.test(text)) {
    return {
      intent: "ask_human",
      question: 'Should I deploy or roll back? Say e.g. "deploy the frontend to staging".',
      reason: "the request is neither a deploy nor a rollback",
    };
  }
  const { successes } = deriveState(events);
  const target = environments.indexOf(environment);
  for (const env of environments.slice(0, target + 1)) {
    const done =
      successes.some((s) => s.component === component && s.environment === env && s.sha === head.data.sha) ||
      deployed.some((d) => d.component === component && d.environment === env && d.sha === head.data.sha);
    if (!done) {
      return {
        intent: `deploy_${component}`,
        environment: env,
        sha: head.data.sha,
        reason: env === environment ? `requested in Slack` : `requested ${environment}; ${env} comes first`,
      };
    }
  }
  return {
    intent: "done_for_now",
    message: `${component} ${short(head.data.sha)} is already live in ${environment}`,
  };
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
        prompt_hash: "rules-v1",
        tokens_in: null,
        tokens_out: null,
        latency_ms: Math.max(0, Math.round(clock() - started)),
      };
      const parsed = parseNextStep(raw, knownNames(config));
      return parsed.ok ? { ok: true, step: parsed.step, meta } : { ok: false, error: parsed.error, meta };
    },
  };
}
