import { deployActionOf, type NextStep } from "./next-step.js";
import type { RepoConfig } from "../config/repo-config.js";
import { deciderLabel, eventsOf, lastOf, type Thread, type ThreadEvent } from "./events.js";
import { changedComponents } from "./state.js";
import { oneLine, short, truncate } from "./text.js";
import { rollbackTargetAt, runningAt } from "./versions.js";

/**
 * The model's context, built by code from the thread's events: the repository, the commits the
 * thread is about (with the labels an answer may use instead of 40 hex digits), a progress table,
 * what runs where with each place's rollback target, CI, then one line per event that matters for
 * the next step. Text from outside is quoted as data inside `<untrusted>` and cut to a bound; `<`
 * and `>` inside it become `‹` and `›`, so nothing quoted can look like one of the context's tags.
 */

/** Bounds for outside text, in characters. */
const BOUND = {
  prTitle: 160,
  prBody: 400,
  fileNames: 120,
  ciSummary: 200,
  configProblems: 400,
  failureSummary: 400,
  rejectionReason: 300,
  humanText: 400,
  question: 300,
  modelText: 200,
} as const;

/** Text from outside, neutralised: one line, no angle brackets. */
function inert(text: string): string {
  return oneLine(text).replace(/</g, "‹").replace(/>/g, "›");
}

function attribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Quotes text from outside as data: one line, cut to `max` characters, inside its own
 * `<untrusted source="...">` tag that nothing in the text can close or imitate.
 */
export function quoteUntrusted(source: string, text: string, max: number): string {
  return `<untrusted source="${attribute(source)}">${truncate(inert(text), max)}</untrusted>`;
}

/** A name from the config or the events (component, environment, login): one short inert word. */
function name(text: string, max = 60): string {
  return truncate(inert(text), max);
}

export function allowedIntents(config: RepoConfig): string[] {
  return [
    ...Object.keys(config.components).map((c) => `deploy_${c}`),
    "rollback",
    "ask_human",
    "done_for_now",
  ];
}

/** How the context names a commit: by its label when it has one, else by its short SHA. */
function commitNamer(events: readonly ThreadEvent[]): (sha: string | null | undefined) => string {
  const merge = lastOf(events, "pr_merged")?.data.merge_sha;
  const tip = lastOf(events, "branch_head")?.data.sha;
  return (sha) => (!sha ? "none" : sha === merge ? "merge" : sha === tip ? "tip" : short(sha));
}

function isApprover(config: RepoConfig, user: string | null, environment?: string): boolean {
  if (!user) return false;
  return config.environments.some(
    (e) => (environment === undefined || e.name === environment) && e.approvers.includes(user),
  );
}

function who(config: RepoConfig, user: string | null, environment?: string): string {
  if (!user) return "a human";
  return `${name(user, 40)} (${isApprover(config, user, environment) ? "approver" : "not an approver"})`;
}

function renderRepository(thread: Thread, config: RepoConfig): string {
  const environments = config.environments.map((e) => {
    const notes: string[] = [];
    if (e.approval === "required") notes.push("approval");
    const rollback = e.rollback_approval ?? e.approval;
    if (rollback !== e.approval) notes.push(`rollback approval ${rollback.replace("_", " ")}`);
    if (e.ci !== "not_failing") notes.push(`ci ${e.ci.replace("_", " ")}`);
    return notes.length ? `${e.name} (${notes.join(", ")})` : e.name;
  });
  return (
    `<repository name="${attribute(thread.repo)}" branch="${attribute(config.branch)}" ` +
    `components="${Object.keys(config.components).join(", ")}" ` +
    `environments="${attribute(environments.join(" then "))}"/>`
  );
}

function renderCommits(events: readonly ThreadEvent[]): string[] {
  const lines: string[] = [];
  const merged = lastOf(events, "pr_merged");
  if (merged) {
    lines.push(`merge=${merged.data.merge_sha} (PR #${merged.data.number} by ${name(merged.data.author)})`);
  }
  const head = lastOf(events, "branch_head");
  if (head) lines.push(`tip=${head.data.sha} (tip of ${name(head.data.branch)})`);
  return lines.length ? ["<commits>", ...lines, "</commits>"] : [];
}

/** Components this thread is about: the merge's changes, or those its steps touched. */
function threadComponents(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  if (lastOf(events, "pr_merged")) {
    const changed = changedComponents(events);
    return Object.keys(config.components).filter((c) => changed.includes(c));
  }
  const touched = new Set<string>();
  for (const e of eventsOf(events, "deploy_authorized")) touched.add(e.data.component);
  return Object.keys(config.components).filter((c) => touched.has(c));
}

/** Each component of the thread in each environment: succeeded, failed, running, or not yet. */
function renderProgress(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  const components = threadComponents(events, config);
  if (components.length === 0) return [];
  const named = commitNamer(events);
  const rows = components.map((component) => {
    const cells = config.environments.map(({ name: environment }) => {
      const last = events
        .filter(
          (e) =>
            (e.type === "deploy_authorized" || e.type === "deploy_finished") &&
            e.data.component === component &&
            e.data.environment === environment,
        )
        .at(-1);
      if (!last) return `${environment} not yet`;
      if (last.type === "deploy_authorized") {
        return `${environment} running ${last.data.kind} to ${named(last.data.sha)}`;
      }
      if (last.type !== "deploy_finished") return `${environment} not yet`;
      const kind =
        lastOf(
          events.filter((e) => e.seq < last.seq),
          "deploy_authorized",
        )?.data.kind === "rollback"
          ? "rollback"
          : "deploy";
      const verb = last.data.outcome === "success" ? "succeeded" : "failed";
      return `${environment} ${kind} ${verb} at ${named(last.data.sha)}`;
    });
    return `${component}: ${cells.join("; ")}`;
  });
  return ["<progress>", ...rows, "</progress>"];
}

const SOURCE: Record<string, string> = {
  this_thread: "this thread",
  deploybot: "deploybot history",
  github: "GitHub deployment",
};

/** What runs at each place now, where that fact comes from, and where a rollback there would go. */
function renderDeployed(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  const named = commitNamer(events);
  const fetched = lastOf(events, "deployed_versions")?.data.entries ?? [];
  const comparisons = eventsOf(events, "commits_compared");
  const lines: string[] = [];
  for (const component of Object.keys(config.components)) {
    for (const { name: environment } of config.environments) {
      const running = runningAt(events, component, environment);
      const entry = fetched.find((e) => e.component === component && e.environment === environment);
      const failedSince = !running && (entry?.sha || eventsOf(events, "deploy_finished").length > 0);
      let text = running
        ? `${named(running.sha)} (${SOURCE[running.source]}${entry?.at && running.source !== "this_thread" ? ` ${entry.at.slice(0, 10)}` : ""})`
        : failedSince && entry?.sha
          ? "unknown since a failed deploy"
          : "none";
      const compared = running ? comparisons.filter((c) => c.data.base === running.sha).at(-1) : undefined;
      if (compared && compared.data.status === "behind") {
        text += `, newer than ${named(compared.data.head)} and contains it`;
      }
      const target = rollbackTargetAt(events, component, environment);
      if (target) text += `; rollback target previous=${short(target)}`;
      lines.push(`${component} ${environment}: ${text}`);
    }
  }
  return ["<deployed>", ...lines, "</deployed>"];
}

function renderCi(events: readonly ThreadEvent[]): string[] {
  const named = commitNamer(events);
  const latest = new Map<string, ThreadEvent & { type: "ci_state" }>();
  for (const e of eventsOf(events, "ci_state")) latest.set(e.data.sha, e);
  return [...latest.values()].map(
    (e) =>
      `<ci commit="${named(e.data.sha)}" state="${e.data.state}">${
        e.data.summary ? quoteUntrusted("ci_summary", e.data.summary, BOUND.ciSummary) : ""
      }</ci>`,
  );
}

function stepText(step: NextStep, named: (sha: string) => string): string {
  const action = deployActionOf(step);
  if (!action) return step.intent;
  return action.kind === "deploy"
    ? `deploy ${action.component} ${named(action.sha)} to ${action.environment}`
    : `rollback ${action.component} in ${action.environment} to ${named(action.sha)}`;
}

/** The line of one event, or null for events that carry nothing for the next decision. */
function eventLine(event: ThreadEvent, events: readonly ThreadEvent[], config: RepoConfig): string | null {
  const named = commitNamer(events);
  switch (event.type) {
    case "pr_merged": {
      const d = event.data;
      return (
        `PR #${d.number} by ${name(d.author)} merged into ${name(d.base_ref)} as merge: ` +
        `${quoteUntrusted("pr_title", d.title, BOUND.prTitle)} ${quoteUntrusted("pr_body", d.body, BOUND.prBody)}`
      );
    }
    case "config_invalid":
      return `configuration ${name(event.data.file, 100)} is invalid: ${quoteUntrusted(
        "config_problems",
        event.data.problems.join("; "),
        BOUND.configProblems,
      )}`;
    case "changes_classified": {
      const d = event.data;
      const components = d.components.map(
        (c) =>
          `${name(c.name)} (${c.files_total} file${c.files_total === 1 ? "" : "s"} ${quoteUntrusted(
            "file_names",
            c.files.slice(0, 2).join(", ") + (c.files_total > 2 ? ", …" : ""),
            BOUND.fileNames,
          )})`,
      );
      return `changed: ${components.length ? components.join("; ") : "no component"}${
        d.unmatched_total ? `; ${d.unmatched_total} files in no component` : ""
      }`;
    }
    case "decision_error":
      return `unusable answer: ${quoteUntrusted("error", event.data.error, BOUND.modelText)}`;
    case "policy_refused":
      return `policy refused ${stepText(event.data.step, named)}: ${quoteUntrusted("policy", event.data.reason, BOUND.rejectionReason)}`;
    case "step_deferred":
      return `waiting: ${name(event.data.reason, 200)}`;
    case "approval_requested":
      return `approval requested for ${stepText(event.data.step, named)}${
        event.data.expires_at ? ` (expires ${event.data.expires_at.slice(0, 16)})` : ""
      }`;
    case "approval_granted":
      return `approved by ${name(deciderLabel(event.data), 60)}`;
    case "approval_rejected": {
      const request = eventsOf(events, "approval_requested").find(
        (e) => e.data.approval_id === event.data.approval_id,
      );
      const step = request ? ` ${stepText(request.data.step, named)}` : "";
      const environment = request ? deployActionOf(request.data.step)?.environment : undefined;
      // A recorded decision passed the approver policy; in Slack the mark is shown as for answers.
      const decider =
        event.data.channel === "slack"
          ? who(config, event.data.by, environment)
          : `${name(deciderLabel(event.data), 60)} (approver)`;
      return `${decider} rejected${step}: ${quoteUntrusted(
        "rejection_reason",
        event.data.reason,
        BOUND.rejectionReason,
      )}`;
    }
    case "approval_expired": {
      const request = eventsOf(events, "approval_requested").find(
        (e) => e.data.approval_id === event.data.approval_id,
      );
      return `approval${request ? ` for ${stepText(request.data.step, named)}` : ""} expired without a decision`;
    }
    case "deploy_finished": {
      const d = event.data;
      const authorized = lastOf(
        events.filter((e) => e.seq < event.seq),
        "deploy_authorized",
      );
      const kind = authorized?.data.kind === "rollback" ? "rollback" : "deploy";
      const head = `${kind} ${name(d.component)} ${named(d.sha)} to ${name(d.environment)}: ${d.outcome}`;
      if (d.outcome === "success") return head;
      return `${head} ${quoteUntrusted("failure_summary", d.summary, BOUND.failureSummary)}`;
    }
    case "human_needed":
      return `asked a human: ${quoteUntrusted("question", event.data.question, BOUND.question)}`;
    case "human_answered":
      return `${who(config, event.data.slack_user)} answered: ${quoteUntrusted(
        "human_answer",
        event.data.answer,
        BOUND.humanText,
      )}`;
    case "chat_request": {
      const d = event.data;
      const asker = d.slack_user
        ? `${who(config, d.slack_user)} asked in Slack`
        : d.source === "pr_comment"
          ? `GitHub user ${name(d.requested_by ?? "?")} asked in a pull request comment`
          : `API client ${name(d.requested_by ?? "?")} asked`;
      const source = d.slack_user
        ? "slack_message"
        : d.source === "pr_comment"
          ? "pr_comment"
          : "api_request";
      return `${asker}: ${quoteUntrusted(source, d.text, BOUND.humanText)}`;
    }
    case "run_dispatched":
      return `workflow ${name(event.data.workflow, 100)} dispatched as run ${event.data.run_id}; waiting for the deployment its job creates`;
    case "pr_found": {
      const d = event.data;
      return `${named(d.sha)} is the merge of PR #${d.number} by ${name(d.author, 100)}`;
    }
    case "paused":
      return `paused by ${name(event.data.by)}`;
    case "resumed":
      return `resumed by ${name(event.data.by)}`;
    case "cancelled":
      return `cancelled by ${name(event.data.by)}`;
    case "done":
      return `done: ${quoteUntrusted("message", event.data.message, BOUND.modelText)}`;
    case "failed":
      return `failed: ${name(event.data.reason, 300)}`;
    case "break_glass_used":
      return `${name(event.data.by, 60)} broke glass for ${stepText(event.data.step, named)}: ${quoteUntrusted(
        "break_glass_reason",
        event.data.reason,
        BOUND.humanText,
      )}`;
    case "verify_finished": {
      const d = event.data;
      const head = `verification of ${name(d.component)} ${named(d.sha)} in ${name(d.environment)}: ${d.conclusion}`;
      if (d.conclusion === "success" || !d.summary) return head;
      return `${head} ${quoteUntrusted("failure_summary", d.summary, BOUND.failureSummary)}`;
    }
    // Rendered in the blocks above, or nothing the next step depends on.
    case "config_loaded":
    case "deployed_versions":
    case "ci_state":
    case "commits_compared":
    case "branch_head":
    case "decision":
    case "deploy_authorized":
    case "deployment_created":
    case "deploy_dispatched":
    case "slack_posting":
    case "slack_posted":
    case "github_writing":
    case "pr_comment_posting":
    case "pr_comment_synced":
    case "service_unavailable":
    case "verify_dispatched":
      return null;
  }
}

/** Errors and refusals before the last successful deploy were resolved; they leave the context. */
function isResolved(event: ThreadEvent, lastSuccessSeq: number): boolean {
  return event.seq < lastSuccessSeq && (event.type === "decision_error" || event.type === "policy_refused");
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
