import type { RepoConfig } from "../config/repo-config.js";
import { deployActionOf, type NextStep } from "../agent/next-step.js";
import { deciderLabel, type EventOf, type Thread, type ThreadEvent } from "./events.js";
import { deriveState } from "./state.js";

/**
 * Renders a thread from its events: as the model's context (compact, tag-delimited, one line per
 * fact) and as a short markdown summary for people. Raw payloads never appear; text that comes from
 * outside (PR titles and bodies, failure logs, human answers) is quoted as data and bounded.
 */

const CUT_MARK = "…[cut]";

/** Bounds for untrusted text, in characters. */
const BOUND = {
  prTitle: 200,
  prBody: 1_000,
  fileNames: 300,
  ciSummary: 300,
  configProblems: 500,
  failureSummary: 500,
  rejectionReason: 500,
  humanAnswer: 1_000,
  codeText: 500,
} as const;

/** Cuts `text` to at most `max` characters, marking the cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= CUT_MARK.length) return text.slice(0, Math.max(0, max));
  let end = max - CUT_MARK.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + CUT_MARK;
}

/** One line: runs of whitespace (including newlines) become one space. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Makes any opening or closing `untrusted` tag inside quoted text inert, so the quote cannot be closed. */
function neutraliseTags(text: string): string {
  return text.replace(/<(\s*\/?\s*untrusted)/gi, "&lt;$1");
}

function attribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Quotes text from outside as data: one line, cut to `max` characters, inside its own
 * `<untrusted source="...">` tag that the text itself cannot close.
 */
export function quoteUntrusted(source: string, text: string, max: number): string {
  const body = truncate(neutraliseTags(oneLine(text)), max);
  return `<untrusted source="${attribute(source)}">${body}</untrusted>`;
}

/** Text made by code that may carry fragments of outside text (names, model output): one line, no tags. */
function plain(text: string, max: number = BOUND.codeText): string {
  return truncate(oneLine(text).replace(/</g, "&lt;"), max);
}

const short = (sha: string) => sha.slice(0, 7);
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function describeStep(step: NextStep): string {
  const action = deployActionOf(step);
  if (action) return `${action.kind} ${action.component} ${action.sha} to ${action.environment}`;
  return step.intent;
}

/** The step as compact JSON, with `<` escaped so model-made text cannot open a tag. */
function stepJson(step: NextStep): string {
  return JSON.stringify(step).replace(/</g, "\\u003c");
}

interface DeployedEntry {
  component: string;
  environment: string;
  sha: string | null;
  source: string;
  at: string | null;
}

/** What runs where now: the pre-fetched versions, updated with this thread's successful deploys. */
function deployedNow(events: readonly ThreadEvent[]): Map<string, DeployedEntry> {
  const deployed = new Map<string, DeployedEntry>();
  const key = (component: string, environment: string) => `${component}\u0000${environment}`;
  for (const event of events) {
    if (event.type === "deployed_versions") {
      deployed.clear();
      for (const entry of event.data.entries) {
        deployed.set(key(entry.component, entry.environment), {
          component: entry.component,
          environment: entry.environment,
          sha: entry.sha,
          source: entry.source,
          at: entry.at,
        });
      }
    } else if (event.type === "deploy_finished" && event.data.outcome === "success") {
      deployed.set(key(event.data.component, event.data.environment), {
        component: event.data.component,
        environment: event.data.environment,
        sha: event.data.sha,
        source: "this_thread",
        at: event.at,
      });
    }
  }
  return deployed;
}

function renderDeployed(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  const deployed = deployedNow(events);
  const lines: string[] = [];
  const listed = new Set<string>();
  const line = (component: string, environment: string, entry: DeployedEntry | undefined) => {
    listed.add(`${component}\u0000${environment}`);
    const sha = entry?.sha ?? "none";
    const source = entry?.sha ? ` source="${attribute(entry.source)}"` : "";
    const at = entry?.sha && entry.at ? ` at="${attribute(entry.at)}"` : "";
    return `<at component="${attribute(component)}" environment="${attribute(environment)}" sha="${attribute(sha)}"${source}${at}/>`;
  };
  for (const component of Object.keys(config.components)) {
    for (const environment of config.environments) {
      lines.push(line(component, environment.name, deployed.get(`${component}\u0000${environment.name}`)));
    }
  }
  // Entries for names the config no longer has still say what runs there.
  for (const [key, entry] of deployed) {
    if (!listed.has(key)) lines.push(line(entry.component, entry.environment, entry));
  }
  return ["<deployed>", ...lines, "</deployed>"];
}

function renderRepository(thread: Thread, config: RepoConfig): string[] {
  const components = Object.entries(config.components).map(
    ([name, component]) =>
      `<component name="${attribute(name)}" workflow="${attribute(component.workflow)}"/>`,
  );
  const environments = config.environments.map((environment, index) => {
    const rollback = environment.rollback_approval ?? environment.approval;
    return (
      `<environment order="${index + 1}" name="${attribute(environment.name)}" approval="${environment.approval}"` +
      (rollback !== environment.approval ? ` rollback_approval="${rollback}"` : "") +
      "/>"
    );
  });
  return [
    `<repository name="${attribute(thread.repo)}" branch="${attribute(config.branch)}"/>`,
    "<components>",
    ...components,
    "</components>",
    '<environments promotion="in this order">',
    ...environments,
    "</environments>",
  ];
}

/** The text of one event for the model. */
function eventText(event: ThreadEvent): string {
  switch (event.type) {
    case "pr_merged": {
      const d = event.data;
      return (
        `PR #${d.number} by ${plain(d.author, 100)} merged into ${plain(d.base_ref, 100)} as ${d.merge_sha} ` +
        `${quoteUntrusted("pr_title", d.title, BOUND.prTitle)} ${quoteUntrusted("pr_body", d.body, BOUND.prBody)}`
      );
    }
    case "config_loaded":
      return `configuration loaded from the default branch ${plain(event.data.default_branch, 100)}`;
    case "config_invalid":
      return `configuration ${plain(event.data.file, 100)} is invalid: ${quoteUntrusted(
        "config_problems",
        event.data.problems.join("; "),
        BOUND.configProblems,
      )}`;
    case "changes_classified": {
      const d = event.data;
      const components = d.components.map((c) => {
        const few = c.files.slice(0, 3).join(", ") + (c.files_total > 3 ? ", …" : "");
        return `${plain(c.name, 60)}: ${plural(c.files_total, "file")} ${quoteUntrusted(
          "file_names",
          few,
          BOUND.fileNames,
        )}`;
      });
      return (
        `${plural(d.files_total, "file")} changed; components: ` +
        `${components.length ? components.join("; ") : "none"}; unmatched files: ${d.unmatched_total}`
      );
    }
    case "deployed_versions":
      return `deployed versions fetched (${plural(event.data.entries.length, "entry", "entries")}; see <deployed>)`;
    case "ci_state":
      return `CI of ${short(event.data.sha)} is ${event.data.state}${
        event.data.summary ? ` ${quoteUntrusted("ci_summary", event.data.summary, BOUND.ciSummary)}` : ""
      }`;
    case "decision":
      return `${event.data.decider} proposed ${stepJson(event.data.step)}`;
    case "decision_error":
      return `unusable answer from ${event.data.decider}: ${plain(event.data.error, 300)}`;
    case "policy_refused":
      return `policy refused ${plain(describeStep(event.data.step), 200)}: ${plain(event.data.reason)}`;
    case "step_deferred":
      return `policy deferred ${plain(describeStep(event.data.step), 200)}: ${plain(event.data.reason)}`;
    case "approval_requested":
      return (
        `approval ${plain(event.data.approval_id, 80)} requested for ${plain(describeStep(event.data.step), 200)}; ` +
        `expires ${event.data.expires_at ?? "never"}`
      );
    case "approval_granted":
      return `approval ${plain(event.data.approval_id, 80)} granted by ${plain(deciderLabel(event.data), 60)}`;
    case "approval_rejected":
      return `approval ${plain(event.data.approval_id, 80)} rejected by ${plain(deciderLabel(event.data), 60)}: ${quoteUntrusted(
        "rejection_reason",
        event.data.reason,
        BOUND.rejectionReason,
      )}`;
    case "approval_expired":
      return `approval ${plain(event.data.approval_id, 80)} expired without a decision`;
    case "deploy_authorized":
      return `policy authorized ${event.data.kind} ${plain(event.data.component, 60)} ${event.data.sha} to ${plain(
        event.data.environment,
        60,
      )}`;
    case "deployment_created":
      return `deployment ${event.data.deployment_id} created: ${plain(event.data.component, 60)} ${short(
        event.data.sha,
      )} to ${plain(event.data.environment, 60)}`;
    case "deploy_dispatched":
      return `workflow ${plain(event.data.workflow, 100)} dispatched for deployment ${event.data.deployment_id}`;
    case "deploy_finished": {
      const d = event.data;
      const head = `deploy of ${plain(d.component, 60)} ${d.sha} to ${plain(d.environment, 60)}: ${d.outcome}`;
      if (d.outcome === "success") return head;
      return `${head} (${d.source}) ${quoteUntrusted("failure_summary", d.summary, BOUND.failureSummary)}`;
    }
    case "human_needed":
      return `asked a human: ${plain(event.data.question)} (why: ${plain(event.data.reason, 300)})`;
    case "human_answered":
      return `${event.data.slack_user ? plain(event.data.slack_user, 40) : "a human"} answered: ${quoteUntrusted(
        "human_answer",
        event.data.answer,
        BOUND.humanAnswer,
      )}`;
    case "chat_request":
      return `${event.data.slack_user ? `${plain(event.data.slack_user, 40)} asked in Slack` : event.data.source === "pr_comment" ? `GitHub user ${plain(event.data.requested_by ?? "?", 60)} asked in a pull request comment` : `API client ${plain(event.data.requested_by ?? "?", 60)} asked`} for ${plain(event.data.owner, 100)}/${plain(event.data.repo, 100)}: ${quoteUntrusted(
        event.data.slack_user
          ? "slack_message"
          : event.data.source === "pr_comment"
            ? "pr_comment"
            : "api_request",
        event.data.text,
        BOUND.humanAnswer,
      )}`;
    case "branch_head":
      return `the tip of ${plain(event.data.branch, 100)} is ${event.data.sha}; deploy this commit`;
    case "run_dispatched":
      return `workflow ${plain(event.data.workflow, 100)} dispatched as run ${event.data.run_id}; waiting for the deployment its job creates`;
    case "pr_found":
      return `${event.data.sha} is the merge of PR #${event.data.number} by ${plain(event.data.author, 100)}`;
    case "slack_posted":
      return `notified Slack (${event.data.purpose})`;
    case "service_unavailable":
      return `${event.data.service} did not answer; retrying`;
    case "slack_posting":
      return "posting to Slack";
    case "github_writing":
      return `writing to GitHub (${event.data.key})`;
    case "pr_comment_posting":
      return "commenting on the pull request";
    case "pr_comment_synced":
      return event.data.error ? "could not comment on the pull request" : "pull request comment updated";
    case "paused":
      return `paused by ${plain(event.data.by, 60)}`;
    case "resumed":
      return `resumed by ${plain(event.data.by, 60)}`;
    case "cancelled":
      return `cancelled by ${plain(event.data.by, 60)}`;
    case "done":
      return `done (by ${event.data.by}): ${plain(event.data.message)}`;
    case "failed":
      return `failed: ${plain(event.data.reason)}`;
  }
}

/**
 * Errors and refusals before the last successful deploy were resolved; they leave the context, and
 * so does a refused decision with its refusal.
 */
function isResolved(event: ThreadEvent, next: ThreadEvent | undefined, lastSuccessSeq: number): boolean {
  if (event.seq >= lastSuccessSeq) return false;
  if (event.type === "decision_error" || event.type === "policy_refused") return true;
  return event.type === "decision" && next?.type === "policy_refused";
}

export function allowedIntents(config: RepoConfig): string[] {
  return [
    ...Object.keys(config.components).map((c) => `deploy_${c}`),
    "rollback",
    "ask_human",
    "done_for_now",
  ];
}

/** The model's context: the repository, what runs where, the thread's events, then the question. */
export function renderContext(thread: Thread, config: RepoConfig): string {
  const lastSuccessSeq = thread.events.reduce(
    (seq, event) => (event.type === "deploy_finished" && event.data.outcome === "success" ? event.seq : seq),
    0,
  );
  const events = thread.events
    .filter((event, index) => !isResolved(event, thread.events[index + 1], lastSuccessSeq))
    .filter(
      (event) =>
        ![
          "slack_posting",
          "slack_posted",
          "github_writing",
          "pr_comment_posting",
          "pr_comment_synced",
          "service_unavailable",
        ].includes(event.type),
    )
    .map((event) => `<event seq="${event.seq}" type="${event.type}">${eventText(event)}</event>`);
  return [
    ...renderRepository(thread, config),
    ...renderDeployed(thread.events, config),
    "<events>",
    ...events,
    "</events>",
    "<question>What is the next step? Answer with one JSON object.</question>",
    `<allowed_intents>${allowedIntents(config).join(", ")}</allowed_intents>`,
  ].join("\n");
}

/* ---------- markdown, for PR comments and Slack ---------- */

/** Outside text in markdown: one line, bounded, unable to mention people or open links/markup. */
/** Outside text made inert in markdown: one line, cut, no formatting, links, HTML or mentions. */
export function mdText(text: string, max: number): string {
  return truncate(
    oneLine(text)
      .replace(/[`*_~[\]|]/g, (c) => `\\${c}`)
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/@/g, "@\u200b"),
    max,
  );
}

export const SAFE_URL = /^https:\/\/[^\s()<>`]+$/;

function mdStep(step: NextStep): string {
  const action = deployActionOf(step);
  if (action) return `${action.kind} ${action.component} \`${short(action.sha)}\` to ${action.environment}`;
  return step.intent.replace(/_/g, " ");
}

function markdownLine(event: ThreadEvent): string {
  switch (event.type) {
    case "pr_merged":
      return `PR #${event.data.number} merged by ${mdText(event.data.author, 60)} as \`${short(event.data.merge_sha)}\`: ${mdText(event.data.title, 120)}`;
    case "config_loaded":
      return "configuration loaded";
    case "config_invalid":
      return `configuration ${mdText(event.data.file, 100)} is invalid: ${mdText(event.data.problems.join("; "), 200)}`;
    case "changes_classified":
      return `${event.data.files_total} files changed: ${
        event.data.components.map((c) => `${c.name} (${c.files_total})`).join(", ") || "no component"
      }`;
    case "deployed_versions":
      return "deployed versions fetched";
    case "ci_state":
      return `CI of \`${short(event.data.sha)}\`: ${event.data.state}`;
    case "decision":
      return `${event.data.decider} proposed: ${mdStep(event.data.step)}`;
    case "decision_error":
      return `unusable answer from ${event.data.decider}: ${mdText(event.data.error, 150)}`;
    case "policy_refused":
      return `policy refused ${mdStep(event.data.step)}: ${mdText(event.data.reason, 200)}`;
    case "step_deferred":
      return `waiting: ${mdText(event.data.reason, 200)}`;
    case "approval_requested":
      return `approval requested for ${mdStep(event.data.step)}`;
    case "approval_granted":
      return `approved by ${mdText(deciderLabel(event.data), 60)}`;
    case "approval_rejected":
      return `rejected by ${mdText(deciderLabel(event.data), 60)}: ${mdText(event.data.reason, 200)}`;
    case "approval_expired":
      return "approval expired";
    case "run_dispatched":
      return `workflow \`${truncate(event.data.workflow.replace(/`/g, ""), 100)}\` dispatched (run ${event.data.run_id})`;
    case "pr_found":
      return `commit \`${short(event.data.sha)}\` is the merge of PR #${event.data.number} by ${mdText(event.data.author, 60)}`;
    case "deploy_authorized":
      return `started ${event.data.kind} of ${event.data.component} \`${short(event.data.sha)}\` to ${event.data.environment}`;
    case "deployment_created":
      return `deployment ${event.data.deployment_id} created`;
    case "deploy_dispatched":
      return `workflow \`${truncate(event.data.workflow.replace(/`/g, ""), 100)}\` dispatched${
        event.data.run_url && SAFE_URL.test(event.data.run_url) ? ` ([run](${event.data.run_url}))` : ""
      }`;
    case "deploy_finished": {
      const d = event.data;
      const head = `${d.component} \`${short(d.sha)}\` to ${d.environment}: **${d.outcome}**`;
      return d.outcome === "success" ? head : `${head}: ${mdText(d.summary, 200)}`;
    }
    case "human_needed":
      return `question: ${mdText(event.data.question, 200)}`;
    case "human_answered":
      return `answer: ${mdText(event.data.answer, 200)}`;
    case "chat_request":
      return `requested in Slack: ${mdText(event.data.text, 200)}`;
    case "branch_head":
      return `tip of ${mdText(event.data.branch, 60)} is \`${event.data.sha.slice(0, 7)}\``;
    case "slack_posted":
      return `posted to Slack (${event.data.purpose})`;
    case "service_unavailable":
      return `${event.data.service} unavailable: ${mdText(event.data.error, 200)}`;
    case "slack_posting":
      return "posting to Slack";
    case "github_writing":
      return `writing to GitHub (${mdText(event.data.key, 60)})`;
    case "pr_comment_posting":
      return `commenting on #${event.data.number}`;
    case "pr_comment_synced":
      return event.data.error
        ? `could not comment on #${event.data.number}: ${mdText(event.data.error, 200)}`
        : `comment on #${event.data.number} updated`;
    case "paused":
      return `paused by ${mdText(event.data.by, 60)}${event.data.reason ? `: ${mdText(event.data.reason, 200)}` : ""}`;
    case "resumed":
      return `resumed by ${mdText(event.data.by, 60)}`;
    case "cancelled":
      return `cancelled by ${mdText(event.data.by, 60)}${event.data.reason ? `: ${mdText(event.data.reason, 200)}` : ""}`;
    case "done":
      return `done: ${mdText(event.data.message, 300)}`;
    case "failed":
      return `failed: ${mdText(event.data.reason, 300)}`;
  }
}

/** A short human-readable summary of the thread: title, status, one bullet per event. */
export function renderMarkdown(thread: Thread): string {
  const merged = thread.events.find((e): e is EventOf<"pr_merged"> => e.type === "pr_merged");
  const title = merged
    ? `### deploybot: ${thread.repo} #${merged.data.number} (\`${short(merged.data.merge_sha)}\`)`
    : `### deploybot: ${thread.repo}`;
  const state = deriveState(thread.events);
  const status = `**Status:** ${state.status.replace(/_/g, " ")}${state.waitingOn ? ` (${mdText(state.waitingOn, 200)})` : ""}`;
  const bullets = thread.events.map((event) => `- ${markdownLine(event)}`);
  return [title, "", status, "", ...bullets].join("\n");
}
