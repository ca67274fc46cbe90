import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseRepoConfig, type RepoConfig } from "../../src/config/repo-config.js";
import {
  newEvent,
  validateNewEvent,
  type NewEvent,
  type Thread,
  type ThreadEvent,
} from "../../src/thread/events.js";
import type { NextStep } from "../../src/thread/next-step.js";

/**
 * The eval cases: YAML files in evals/cases/, one decision situation each (see evals/README.md).
 * A case names a repository config from evals/configs/, lists the thread's events in a shorthand
 * this module expands into real, schema-checked events, and says which answers are acceptable,
 * which steps the policy must refuse, and what the model's context must hold.
 */

export const EVALS_DIR = fileURLToPath(new URL("../", import.meta.url));

/** Commits by name, so cases read as stories; any other value must be 40 hex digits. */
export const COMMITS: Record<string, string> = {
  MERGE: "0123456789abcdef0123456789abcdef01234567",
  TIP: "7777777777777777777777777777777777777777",
  OLD: "89abcdef0123456789abcdef0123456789abcdef",
  OLDER: "4444444444444444444444444444444444444444",
  NEWER: "fedcba9876543210fedcba9876543210fedcba98",
  OTHER: "5555555555555555555555555555555555555555",
};

const commit = z.string().transform((value, ctx) => {
  const sha = COMMITS[value] ?? value;
  if (!/^[0-9a-f]{40}$/.test(sha)) {
    ctx.addIssue({ code: "custom", message: `"${value}" is neither a commit name nor 40 hex digits` });
    return z.NEVER;
  }
  return sha;
});

/** A step as a case writes it: commits by name; fields left out match anything. */
const StepPattern = z.strictObject({
  intent: z.string(),
  environment: z.string().optional(),
  component: z.string().optional(),
  sha: commit.optional(),
  to_sha: commit.optional(),
  /** For ask_human and done_for_now: words the question or message must contain (any of them). */
  mentions: z.array(z.string()).optional(),
});
export type StepPattern = z.infer<typeof StepPattern>;

/** A complete step, for events that hold one (decisions, approvals, refusals). */
const Step = z
  .strictObject({
    intent: z.string(),
    environment: z.string().optional(),
    component: z.string().optional(),
    sha: commit.optional(),
    to_sha: commit.optional(),
    question: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().default("planned"),
  })
  .transform((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as NextStep);

const Place = z.string().regex(/^[a-z][a-z0-9_-]*\/[a-z][a-z0-9_-]*$/, "expected component/environment");

const Shorthand = z.union([
  z.strictObject({
    merged: z
      .strictObject({
        number: z.number().int().default(7),
        title: z.string().default("Speed up the checkout API"),
        body: z.string().default("Caches the cart totals."),
        author: z.string().default("octocat"),
        sha: commit.default(COMMITS.MERGE!),
      })
      .prefault({}),
  }),
  z.strictObject({
    request: z.strictObject({
      text: z.string(),
      user: z.string().nullable().default("U01OCTOCAT"),
      api: z.string().optional(),
    }),
  }),
  z.strictObject({ tip: commit }),
  z.strictObject({ changes: z.array(z.string()) }),
  z.strictObject({
    deployed: z.record(
      Place,
      z.union([
        commit,
        z.strictObject({
          sha: commit,
          previous: commit.optional(),
          source: z.enum(["deploybot", "github"]).default("github"),
        }),
      ]),
    ),
  }),
  z.strictObject({
    ci: z.union([
      z.enum(["success", "failure", "pending", "none"]),
      z.strictObject({
        state: z.enum(["success", "failure", "pending", "none"]),
        summary: z.string().default(""),
        sha: commit.optional(),
      }),
    ]),
  }),
  z.strictObject({
    run: z.strictObject({
      component: z.string(),
      environment: z.string(),
      outcome: z.enum(["success", "failure", "running"]).default("success"),
      kind: z.enum(["deploy", "rollback"]).default("deploy"),
      sha: commit.optional(),
      summary: z.string().optional(),
    }),
  }),
  z.strictObject({ decision: Step }),
  z.strictObject({ refused: z.strictObject({ step: Step, reason: z.string() }) }),
  z.strictObject({ error: z.string() }),
  z.strictObject({ approval: z.strictObject({ step: Step, id: z.string().default("ap_1") }) }),
  z.strictObject({
    approved: z.strictObject({ id: z.string().default("ap_1"), by: z.string().default("U01APPROVER") }),
  }),
  z.strictObject({
    rejected: z.strictObject({
      reason: z.string(),
      id: z.string().default("ap_1"),
      by: z.string().default("U01APPROVER"),
    }),
  }),
  z.strictObject({ expired: z.strictObject({ id: z.string().default("ap_1") }).prefault({}) }),
  z.strictObject({ question: z.string() }),
  z.strictObject({
    answer: z.union([
      z.string().transform((text) => ({ text, by: "U01OCTOCAT" as string | null })),
      z.strictObject({ text: z.string(), by: z.string().nullable().default("U01OCTOCAT") }),
    ]),
  }),
  z.strictObject({
    compared: z.strictObject({
      base: commit,
      head: commit,
      status: z.enum(["ahead", "behind", "identical", "diverged"]),
    }),
  }),
  z.strictObject({ event: z.strictObject({ type: z.string(), data: z.unknown() }) }),
]);

export const EvalCaseFile = z.strictObject({
  about: z.string().min(1),
  /** What the case covers, for the table: merge, request, failure, rejection, ci, injection, ... */
  tags: z.array(z.string()).min(1),
  config: z.string().default("two-components"),
  events: z.array(Shorthand).min(1),
  /** Acceptable answers: the decider passes when its step matches one of them and the policy lets it through. */
  expect: z.array(StepPattern).min(1),
  /** Steps the policy must not authorise here (refuse or hold), whoever proposes them. */
  forbid: z
    .array(
      z.union([StepPattern, z.strictObject({ step: StepPattern, approved: z.boolean().default(false) })]),
    )
    .default([]),
  /** Text the model's context must contain, and text it must not contain outside the fences. */
  context: z.array(z.string()).default([]),
  context_not: z.array(z.string()).default([]),
  /** deploybot history that the lookups before judging would find (the store's successful deploys). */
  history: z
    .array(
      z.strictObject({
        component: z.string(),
        environment: z.string(),
        sha: commit,
        finished_at: z.string(),
        pr: z.number().int().optional(),
      }),
    )
    .default([]),
});

export interface EvalCase {
  name: string;
  about: string;
  tags: string[];
  config: RepoConfig;
  thread: Thread;
  expect: StepPattern[];
  forbid: { step: StepPattern; approved: boolean }[];
  context: string[];
  contextNot: string[];
  history: { component: string; environment: string; sha: string; finishedAt: string; threadId: string }[];
  prOfThread: Record<string, number>;
}

const START = Date.parse("2026-11-24T12:00:00.000Z");

function expand(
  shorthand: z.infer<typeof Shorthand>,
  configText: unknown,
  ids: { next: number },
): NewEvent[] {
  if ("merged" in shorthand) {
    const m = shorthand.merged;
    return [
      newEvent("pr_merged", {
        installation_id: 1,
        owner: "acme",
        repo: "shop",
        number: m.number,
        title: m.title,
        body: m.body,
        author: m.author,
        merge_sha: m.sha,
        base_ref: "main",
        html_url: `https://github.com/acme/shop/pull/${m.number}`,
      }),
      newEvent("config_loaded", { source: configText as Record<string, unknown>, default_branch: "main" }),
    ];
  }
  if ("request" in shorthand) {
    const r = shorthand.request;
    const api = r.api !== undefined;
    return [
      newEvent("chat_request", {
        text: r.text,
        slack_user: api ? null : r.user,
        channel: api ? null : "C01DEPLOYS",
        ts: api ? null : "1732449600.000100",
        source: api ? "api" : "mention",
        requested_by: api ? (r.api ?? null) : null,
        installation_id: 1,
        owner: "acme",
        repo: "shop",
      }),
      newEvent("config_loaded", { source: configText as Record<string, unknown>, default_branch: "main" }),
    ];
  }
  if ("tip" in shorthand) return [newEvent("branch_head", { branch: "main", sha: shorthand.tip })];
  if ("changes" in shorthand) {
    const components = shorthand.changes.map((name) => ({
      name,
      files: [`${name === "frontend" ? "web" : "api"}/${name}.ts`],
      files_total: 1,
    }));
    return [
      newEvent("changes_classified", { files_total: components.length, components, unmatched_total: 0 }),
    ];
  }
  if ("deployed" in shorthand) {
    const entries = Object.entries(shorthand.deployed).map(([place, value], index) => {
      const [component = "", environment = ""] = place.split("/");
      const v =
        typeof value === "string" ? { sha: value, previous: undefined, source: "github" as const } : value;
      return {
        component,
        environment,
        sha: v.sha,
        deployment_id: 100 + index,
        at: "2026-11-20T10:00:00.000Z",
        source: v.source,
        previous_sha: v.previous ?? null,
      };
    });
    return [newEvent("deployed_versions", { entries })];
  }
  if ("ci" in shorthand) {
    const c =
      typeof shorthand.ci === "string" ? { state: shorthand.ci, summary: "", sha: undefined } : shorthand.ci;
    const summary =
      c.summary ||
      (c.state === "success"
        ? "3 checks; all passed"
        : c.state === "failure"
          ? "3 checks; failing: test"
          : "");
    return [newEvent("ci_state", { sha: c.sha ?? COMMITS.MERGE!, state: c.state, summary })];
  }
  if ("run" in shorthand) {
    const r = shorthand.run;
    const sha = r.sha ?? (r.kind === "rollback" ? COMMITS.OLD! : COMMITS.MERGE!);
    const step: NextStep =
      r.kind === "deploy"
        ? { intent: `deploy_${r.component}`, environment: r.environment, sha, reason: "planned" }
        : {
            intent: "rollback",
            component: r.component,
            environment: r.environment,
            to_sha: sha,
            reason: "planned",
          };
    const id = (ids.next += 1);
    const events: NewEvent[] = [
      newEvent("deploy_authorized", {
        step,
        kind: r.kind,
        component: r.component,
        environment: r.environment,
        sha,
        lock_key: `acme/shop:${r.component}:${r.environment}`,
      }),
      newEvent("deployment_created", {
        step_seq: 1,
        deployment_id: id,
        component: r.component,
        environment: r.environment,
        sha,
      }),
      newEvent("deploy_dispatched", {
        deployment_id: id,
        workflow: `deploy-${r.component}.yml`,
        run_id: id * 10,
        run_url: null,
      }),
    ];
    if (r.outcome !== "running") {
      events.push(
        newEvent("deploy_finished", {
          deployment_id: id,
          component: r.component,
          environment: r.environment,
          sha,
          outcome: r.outcome,
          summary:
            r.summary ?? (r.outcome === "success" ? "deployed" : 'job "deploy", step "Deploy" failure'),
          source: "deployment_status",
          log_url: null,
        }),
      );
    }
    return events;
  }
  const meta = {
    decider: "rules" as const,
    model: "rules",
    prompt_hash: "eval",
    tokens_in: null,
    tokens_out: null,
    latency_ms: 1,
  };
  if ("decision" in shorthand) return [newEvent("decision", { ...meta, step: shorthand.decision })];
  if ("refused" in shorthand) return [newEvent("policy_refused", shorthand.refused)];
  if ("error" in shorthand) return [newEvent("decision_error", { ...meta, error: shorthand.error })];
  if ("approval" in shorthand) {
    return [
      newEvent("approval_requested", {
        approval_id: shorthand.approval.id,
        step: shorthand.approval.step,
        expires_at: "2026-11-25T12:00:00.000Z",
      }),
    ];
  }
  if ("approved" in shorthand)
    return [
      newEvent("approval_granted", {
        approval_id: shorthand.approved.id,
        by: shorthand.approved.by,
        channel: "slack",
        slack_user: shorthand.approved.by,
      }),
    ];
  if ("rejected" in shorthand) {
    const r = shorthand.rejected;
    return [
      newEvent("approval_rejected", {
        approval_id: r.id,
        by: r.by,
        channel: "slack",
        slack_user: r.by,
        reason: r.reason,
      }),
    ];
  }
  if ("expired" in shorthand) return [newEvent("approval_expired", { approval_id: shorthand.expired.id })];
  if ("question" in shorthand)
    return [newEvent("human_needed", { question: shorthand.question, reason: "unsure" })];
  if ("answer" in shorthand)
    return [newEvent("human_answered", { answer: shorthand.answer.text, slack_user: shorthand.answer.by })];
  if ("compared" in shorthand) {
    const c = shorthand.compared;
    return [
      newEvent("commits_compared", {
        ...c,
        ahead_by: c.status === "ahead" || c.status === "diverged" ? 2 : 0,
        behind_by: c.status === "behind" || c.status === "diverged" ? 2 : 0,
      }),
    ];
  }
  return [shorthand.event as NewEvent];
}

/** Reads and checks one case file; every problem names the file and the field. */
export function loadCase(file: string): EvalCase {
  const name = basename(file).replace(/\.ya?ml$/, "");
  const parsed = EvalCaseFile.safeParse(parseYaml(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new Error(`eval case ${file} is invalid:\n  - ${problems.slice(0, 8).join("\n  - ")}`);
  }
  const c = parsed.data;
  const configFile = join(EVALS_DIR, "configs", `${c.config}.yml`);
  const configText = readFileSync(configFile, "utf8");
  const config = parseRepoConfig(configText, configFile);
  const ids = { next: 1000 };
  let events: ThreadEvent[];
  try {
    const expanded = c.events.flatMap((e) => expand(e, parseYaml(configText), ids));
    events = expanded.map((event, index) => ({
      ...validateNewEvent(event),
      seq: index + 1,
      at: new Date(START + (index + 1) * 60_000).toISOString(),
    })) as ThreadEvent[];
  } catch (error) {
    throw new Error(`eval case ${file}: an event does not fit its schema: ${String(error).slice(0, 400)}`, {
      cause: error,
    });
  }
  const prOfThread: Record<string, number> = {};
  const history = c.history.map((h, index) => {
    const threadId = `th_history_${index}`;
    if (h.pr !== undefined) prOfThread[threadId] = h.pr;
    return {
      component: h.component,
      environment: h.environment,
      sha: h.sha,
      finishedAt: h.finished_at,
      threadId,
    };
  });
  history.sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  return {
    name,
    about: c.about,
    tags: c.tags,
    config,
    thread: {
      id: `th_eval_${name}`,
      repo: "acme/shop",
      installationId: 1,
      createdAt: new Date(START).toISOString(),
      events,
    },
    expect: c.expect,
    forbid: c.forbid.map((f) => ("step" in f ? f : { step: f, approved: false })),
    context: c.context,
    contextNot: c.context_not,
    history,
    prOfThread,
  };
}

export function loadCases(dir = join(EVALS_DIR, "cases")): EvalCase[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => loadCase(join(dir, f)));
}
