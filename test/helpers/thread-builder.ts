import { parse as parseYaml } from "yaml";
import type { NextStep } from "../../src/thread/next-step.js";
import { parseRepoConfig, type RepoConfig } from "../../src/config/repo-config.js";
import {
  newEvent,
  validateNewEvent,
  type EventDataOf,
  type NewEvent,
  type Thread,
  type ThreadEvent,
} from "../../src/thread/events.js";
import { CONFIG_YAML } from "./github-mocks.js";

/**
 * Literal threads for pure tests: events are validated against their schemas, numbered from 1 and
 * stamped a minute apart. The event helpers fill in plausible data; pass overrides for the rest.
 */

export const OWNER = "acme";
export const REPO = "shop";
export const INSTALLATION_ID = 4242;
export const MERGE_SHA = "0123456789abcdef0123456789abcdef01234567";
export const PREVIOUS_SHA = "89abcdef0123456789abcdef0123456789abcdef";
export const START = "2026-11-24T12:00:00.000Z";

/** The example config: backend and frontend, staging then production (approval required). */
export const SAMPLE_CONFIG_YAML = CONFIG_YAML;

export function sampleConfig(yaml: string = SAMPLE_CONFIG_YAML): RepoConfig {
  return parseRepoConfig(yaml);
}

export function threadWith(
  events: readonly NewEvent[],
  options: { id?: string; repo?: string; installationId?: number; start?: string } = {},
): Thread {
  const start = Date.parse(options.start ?? START);
  return {
    id: options.id ?? "th_test",
    repo: options.repo ?? `${OWNER}/${REPO}`,
    installationId: options.installationId ?? INSTALLATION_ID,
    createdAt: new Date(start).toISOString(),
    events: events.map((event, index) => {
      const valid = validateNewEvent(event);
      return {
        ...valid,
        seq: index + 1,
        at: new Date(start + (index + 1) * 60_000).toISOString(),
      } as ThreadEvent;
    }),
  };
}

export function mergedPr(overrides: Partial<EventDataOf<"pr_merged">> = {}): EventDataOf<"pr_merged"> {
  const number = overrides.number ?? 7;
  return {
    installation_id: INSTALLATION_ID,
    owner: OWNER,
    repo: REPO,
    number,
    title: "Speed up the checkout API",
    body: "Caches the cart totals.",
    author: "octocat",
    merge_sha: MERGE_SHA,
    base_ref: "main",
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${number}`,
    ...overrides,
  };
}

const meta = {
  decider: "rules" as const,
  model: "rules",
  prompt_hash: "rules-v1",
  tokens_in: null,
  tokens_out: null,
  latency_ms: 1,
};

export const deployStep = (component: string, environment: string, sha: string = MERGE_SHA): NextStep => ({
  intent: `deploy_${component}`,
  environment,
  sha,
  reason: `promote ${sha.slice(0, 7)} to ${environment}`,
});

export const rollbackStep = (
  component: string,
  environment: string,
  toSha: string = PREVIOUS_SHA,
): NextStep => ({
  intent: "rollback",
  component,
  environment,
  to_sha: toSha,
  reason: `roll ${component} back in ${environment}`,
});

/** Event helpers, each returning a `NewEvent` for `threadWith`. */
export const on = {
  prMerged: (overrides: Partial<EventDataOf<"pr_merged">> = {}) => newEvent("pr_merged", mergedPr(overrides)),

  configLoaded: (yaml: string = SAMPLE_CONFIG_YAML) =>
    newEvent("config_loaded", { source: parseYaml(yaml) as Record<string, unknown>, default_branch: "main" }),

  /** `changes({ backend: ["api/a.ts"], frontend: ["web/x.tsx"] })` */
  changes: (byComponent: Record<string, string[]>, unmatched = 0) => {
    const components = Object.entries(byComponent).map(([name, files]) => ({
      name,
      files: files.slice(0, 20),
      files_total: files.length,
    }));
    return newEvent("changes_classified", {
      files_total: components.reduce((sum, c) => sum + c.files_total, 0) + unmatched,
      components,
      unmatched_total: unmatched,
    });
  },

  /** `deployed({ "backend/production": PREVIOUS_SHA })`; places not listed are "none". */
  deployed: (shas: Record<string, string | null>) =>
    newEvent("deployed_versions", {
      entries: Object.entries(shas).map(([place, sha], index) => {
        const [component = "", environment = ""] = place.split("/");
        return {
          component,
          environment,
          sha,
          deployment_id: sha ? 100 + index : null,
          at: sha ? START : null,
          source: sha ? ("github" as const) : ("none" as const),
          previous_sha: null,
        };
      }),
    }),

  ci: (state: EventDataOf<"ci_state">["state"] = "success", summary = "3 checks passed") =>
    newEvent("ci_state", { sha: MERGE_SHA, state, summary }),

  decision: (step: NextStep) => newEvent("decision", { ...meta, step }),

  decisionError: (error: string) => newEvent("decision_error", { ...meta, error }),

  policyRefused: (step: NextStep, reason: string) => newEvent("policy_refused", { step, reason }),

  approvalRequested: (step: NextStep, approvalId = "ap_1") =>
    newEvent("approval_requested", { approval_id: approvalId, step, expires_at: null }),

  approvalGranted: (approvalId = "ap_1", slackUser = "U01APPROVER") =>
    newEvent("approval_granted", {
      approval_id: approvalId,
      by: slackUser,
      channel: "slack",
      slack_user: slackUser,
    }),

  approvalRejected: (reason: string, approvalId = "ap_1", slackUser = "U01APPROVER") =>
    newEvent("approval_rejected", {
      approval_id: approvalId,
      by: slackUser,
      channel: "slack",
      slack_user: slackUser,
      reason,
    }),

  authorized: (
    kind: "deploy" | "rollback",
    component: string,
    environment: string,
    sha: string = MERGE_SHA,
  ) =>
    newEvent("deploy_authorized", {
      step:
        kind === "deploy"
          ? deployStep(component, environment, sha)
          : rollbackStep(component, environment, sha),
      kind,
      component,
      environment,
      sha,
      lock_key: `${OWNER}/${REPO}:${component}:${environment}`,
    }),

  finished: (
    component: string,
    environment: string,
    outcome: "success" | "failure",
    options: { sha?: string; summary?: string; deploymentId?: number } = {},
  ) =>
    newEvent("deploy_finished", {
      deployment_id: options.deploymentId ?? 1,
      component,
      environment,
      sha: options.sha ?? MERGE_SHA,
      outcome,
      summary: options.summary ?? (outcome === "success" ? "deployed" : "job deploy failed at step migrate"),
      source: "deployment_status",
      log_url: null,
    }),

  humanNeeded: (question: string, reason = "unsure") => newEvent("human_needed", { question, reason }),

  humanAnswered: (answer: string, slackUser: string | null = "U01OCTOCAT") =>
    newEvent("human_answered", { answer, slack_user: slackUser }),
};

/** A merge of the sample config that changed the given components (default: backend). */
export function mergeStart(byComponent: Record<string, string[]> = { backend: ["api/cart.ts"] }): NewEvent[] {
  return [on.prMerged(), on.configLoaded(), on.changes(byComponent)];
}

/** A full, successful run of one component to one environment: authorized, created, dispatched, finished. */
export function deployRun(
  component: string,
  environment: string,
  outcome: "success" | "failure" = "success",
  options: { kind?: "deploy" | "rollback"; sha?: string; deploymentId?: number; summary?: string } = {},
): NewEvent[] {
  const sha = options.sha ?? MERGE_SHA;
  const deploymentId = options.deploymentId ?? 1;
  return [
    on.authorized(options.kind ?? "deploy", component, environment, sha),
    newEvent("deployment_created", { step_seq: 1, deployment_id: deploymentId, component, environment, sha }),
    newEvent("deploy_dispatched", {
      deployment_id: deploymentId,
      workflow: `deploy-${component}.yml`,
      run_id: deploymentId * 10,
      run_url: null,
    }),
    on.finished(component, environment, outcome, {
      sha,
      deploymentId,
      ...(options.summary !== undefined ? { summary: options.summary } : {}),
    }),
  ];
}

/** The decision record of a scripted test decider. */
export const TEST_DECISION_META = {
  decider: "rules",
  model: "test",
  prompt_hash: "t",
  tokens_in: null,
  tokens_out: null,
  latency_ms: 0,
} as const;
