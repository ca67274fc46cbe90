import type { ActionsBlock, ContextBlock, HeaderBlock, KnownBlock, SectionBlock, View } from "@slack/web-api";
import { clip, short, truncate } from "../thread/text.js";

/**
 * Block Kit builders: pure functions from domain data to Slack messages. Everything interpolated is
 * escaped (`&`, `<`, `>`), so a PR title cannot ping `<!channel>`, forge a link or mention a user;
 * untrusted text (PR titles, commit messages, reasons, questions) is also cut to fit Slack's limits,
 * so a 10,000-character title still yields a message Slack accepts.
 */

/** Slack's Block Kit limits. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  headerText: 150,
  buttonValue: 2000,
  contextElements: 10,
  viewTitle: 24,
  privateMetadata: 3000,
} as const;

export const APPROVE_ACTION_ID = "deploybot.approve";
export const REJECT_ACTION_ID = "deploybot.reject";
export const REJECT_CALLBACK_ID = "deploybot.reject";
export const REJECT_REASON_BLOCK_ID = "reason";
export const REJECT_REASON_ACTION_ID = "reason";
export const REJECT_REASON_MAX_LENGTH = 2000;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export interface ApprovalCardInput {
  approvalId: string;
  /** owner/name */
  repo: string;
  kind: "deploy" | "rollback";
  component: string;
  environment: string;
  sha: string;
  /** e.g. https://github.com */
  serverUrl: string;
  pr: { number: number; title: string; url: string; author: string } | null;
  /** Commits since what is deployed there now. */
  changes: { commits: { sha: string; message: string }[]; total: number } | null;
  /** Deployed there now: the rollback target if this goes wrong. */
  currentSha: string | null;
  ci: { state: string; summary: string } | null;
  /** The decider's reason. */
  reason: string;
  /** "openai (gpt-4.1-mini)" or "rules" */
  decider: string;
  /** ISO 8601 */
  expiresAt: string | null;
  /**
   * The PR author's GitHub login when they may not approve this deploy but the `users:` mapping
   * has no Slack id for them, so deploybot cannot tell them apart from other approvers.
   */
  uncheckedAuthor?: string | null;
}

export interface ApprovalOutcome {
  /** `closed`: the thread ended (cancelled, finished, superseded) while the approval was open. */
  kind: "approved" | "rejected" | "expired" | "closed";
  slackUser: string | null;
  /** ISO 8601 */
  at: string;
  reason?: string;
}

export interface StatusThread {
  id: string;
  title: string;
  status: string;
  waitingOn: string | null;
  /** ISO 8601 */
  updatedAt: string;
}

// ---------------------------------------------------------------------------------------------
// Text primitives

/** Escapes the three characters Slack treats as control characters in mrkdwn. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Cuts mrkdwn text to at most `max` characters. A cut text ends with `…`, or with `… <url|more>`
 * when a link is given. Never leaves half an escape (`&am`), half a link (`<https://…`) or half a
 * surrogate pair behind.
 */
export function cut(text: string, max: number, linkForMore?: string): string {
  if (text.length <= max) return text;
  let suffix = linkForMore ? `… ${link(linkForMore, "more")}` : "…";
  if (suffix.length > max) suffix = "…";
  if (max < suffix.length) return "";
  let head = clip(text, max - suffix.length);
  head = head.replace(/&[a-z#0-9]{0,5}$/i, "");
  const open = head.lastIndexOf("<");
  if (open > head.lastIndexOf(">")) head = head.slice(0, open);
  return `${head}${suffix}`;
}

/** Escapes and cuts untrusted text in one step. */
function untrusted(text: string, max: number, linkForMore?: string): string {
  return cut(escapeMrkdwn(text), max, linkForMore);
}

/** Makes a URL safe inside `<url|label>`: no `<`, `>` or `|`, and `&` escaped as Slack asks. */
function safeUrl(url: string): string {
  return url.replace(/&/g, "&amp;").replace(/</g, "%3C").replace(/>/g, "%3E").replace(/\|/g, "%7C");
}

/** A mrkdwn link; `label` must already be escaped. */
function link(url: string, label: string): string {
  return `<${safeUrl(url)}|${label}>`;
}

function commitUrl(serverUrl: string, repo: string, sha: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}/commit/${sha}`;
}

function compareUrl(serverUrl: string, repo: string, base: string, head: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}/compare/${base}...${head}`;
}

function repoUrl(serverUrl: string, repo: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/${repo}`;
}

/**
 * A date Slack renders in the reader's time zone: `<!date^unix^{date_short_pretty} {time}|iso>`.
 * An unparseable date is shown as (escaped) text.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}

/** `<@U…>` for a Slack user id; anything that is not an id is shown as escaped text. */
function userMention(slackUser: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(slackUser) ? `<@${slackUser}>` : escapeMrkdwn(slackUser);
}

/** A mrkdwn block quote of already-escaped text. */
function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `>${line}`)
    .join("\n");
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").trim();
}

/**
 * Joins lines while they fit in `max` characters, then says how many were left out ("and N more"),
 * counting `alsoHidden` lines that were never offered.
 */
function linesWithin(lines: string[], max: number, alsoHidden: number): string {
  const more = (hidden: number) => `and ${hidden} more`;
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const hiddenAfter = lines.length - index - 1 + alsoHidden;
    const reserve = hiddenAfter > 0 ? more(hiddenAfter).length + 1 : 0;
    if (used + line.length + 1 + reserve > max) {
      kept.push(more(lines.length - index + alsoHidden));
      return kept.join("\n");
    }
    kept.push(line);
    used += line.length + 1;
  }
  if (alsoHidden > 0) kept.push(more(alsoHidden));
  return kept.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Block primitives (each one enforces its own limit)

function header(text: string): HeaderBlock {
  const plain = truncate(text, SLACK_LIMITS.headerText, "…");
  return { type: "header", text: { type: "plain_text", text: plain, emoji: true } };
}

function section(text: string, linkForMore?: string): SectionBlock {
  return {
    type: "section",
    text: { type: "mrkdwn", text: cut(text, SLACK_LIMITS.sectionText, linkForMore) },
  };
}

function fieldsSection(fields: string[]): SectionBlock {
  return {
    type: "section",
    fields: fields
      .slice(0, SLACK_LIMITS.fieldsPerSection)
      .map((text) => ({ type: "mrkdwn", text: cut(text, SLACK_LIMITS.fieldText) })),
  };
}

function context(...texts: string[]): ContextBlock {
  return {
    type: "context",
    elements: texts
      .filter((text) => text.length > 0)
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: "mrkdwn", text: cut(text, SLACK_LIMITS.sectionText) })),
  };
}

function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  return blocks.slice(0, SLACK_LIMITS.blocksPerMessage);
}

// ---------------------------------------------------------------------------------------------
// The approval card

function headline(input: ApprovalCardInput): string {
  return `Approve ${input.kind} of ${input.component} to ${input.environment}?`;
}

function fallbackText(input: ApprovalCardInput, lead: string): string {
  const pr = input.pr ? ` (#${input.pr.number} ${untrusted(input.pr.title, 150)})` : "";
  return cut(`${escapeMrkdwn(lead)} ${escapeMrkdwn(input.repo)} ${short(input.sha)}${pr}`, 400);
}

const MAX_COMMITS_SHOWN = 10;

const CI_EMOJI: Record<string, string> = {
  success: ":white_check_mark:",
  failure: ":x:",
  error: ":x:",
  pending: ":hourglass_flowing_sand:",
};

function cardBlocks(input: ApprovalCardInput): KnownBlock[] {
  const { serverUrl, repo, sha } = input;
  const blocks: KnownBlock[] = [header(headline(input))];

  const prLine = input.pr
    ? `*${link(input.pr.url, `#${input.pr.number} ${untrusted(input.pr.title, 300)}`)}* by ${untrusted(input.pr.author, 100)}`
    : "_No pull request: this commit was not merged through one._";
  blocks.push(
    section(
      `${prLine}\n${link(repoUrl(serverUrl, repo), escapeMrkdwn(repo))} · commit ${link(commitUrl(serverUrl, repo, sha), `\`${short(sha)}\``)}`,
    ),
  );

  const ci = input.ci
    ? `${CI_EMOJI[input.ci.state] ?? ":grey_question:"} ${untrusted(input.ci.state, 50)}${input.ci.summary ? `: ${untrusted(input.ci.summary, 1500)}` : ""}`
    : "no CI status reported";
  const current = input.currentSha
    ? `${link(commitUrl(serverUrl, repo, input.currentSha), `\`${short(input.currentSha)}\``)}`
    : "nothing deployed there yet";
  blocks.push(
    fieldsSection([
      `*Component*\n${escapeMrkdwn(input.component)} → ${escapeMrkdwn(input.environment)}`,
      `*CI*\n${ci}`,
      input.kind === "deploy" ? `*Rollback target*\n${current}` : `*Deployed there now*\n${current}`,
      `*Expires*\n${input.expiresAt ? slackDate(input.expiresAt) : "never"}`,
    ]),
  );

  blocks.push(section(changesText(input)));
  blocks.push(
    section(
      `*Why* (${untrusted(input.decider, 100)})\n${quote(untrusted(input.reason || "(no reason given)", 2500))}`,
    ),
  );
  return blocks;
}

function changesText(input: ApprovalCardInput): string {
  const { serverUrl, repo, sha, currentSha, changes } = input;
  const compare = currentSha ? link(compareUrl(serverUrl, repo, currentSha, sha), "compare") : null;
  if (!changes) {
    return `*Changes*\n${compare ? `See ${compare}.` : "Unknown: nothing to compare with."}`;
  }
  const heading = `*Changes* (${changes.total} commit${changes.total === 1 ? "" : "s"}${compare ? ` · ${compare}` : ""})`;
  const shown = changes.commits.slice(0, MAX_COMMITS_SHOWN);
  const hidden = Math.max(changes.total, changes.commits.length) - shown.length;
  const lines = shown.map((commit) => {
    const url = commitUrl(serverUrl, repo, commit.sha);
    return `• ${link(url, `\`${short(commit.sha)}\``)} ${untrusted(firstLine(commit.message), 200, url)}`;
  });
  if (lines.length === 0 && hidden === 0) return `${heading}\nNo commits.`;
  return `${heading}\n${linesWithin(lines, SLACK_LIMITS.sectionText - heading.length - 1, hidden)}`;
}

function approvalButtons(approvalId: string): ActionsBlock {
  if (approvalId.length === 0 || approvalId.length > SLACK_LIMITS.buttonValue) {
    throw new Error(`approval id must be 1..${SLACK_LIMITS.buttonValue} characters (it is the button value)`);
  }
  return {
    type: "actions",
    elements: [
      {
        type: "button",
        action_id: APPROVE_ACTION_ID,
        style: "primary",
        text: { type: "plain_text", text: "Approve" },
        value: approvalId,
      },
      {
        type: "button",
        action_id: REJECT_ACTION_ID,
        style: "danger",
        text: { type: "plain_text", text: "Reject" },
        value: approvalId,
      },
    ],
  };
}

/** Says on the card that the author's self-approval cannot be checked, and how to fix that. */
function uncheckedAuthorLine(login: string): ContextBlock {
  const who = untrusted(login, 100);
  return context(
    `:warning: Self-approval cannot be checked: ${who} authored this pull request but has no Slack id under \`users:\` in .github/deploybot.yml. Add \`${who}: U…\` there.`,
  );
}

/** The request for approval: what, why, what changes, CI, what we would roll back to, and two buttons. */
export function approvalCard(input: ApprovalCardInput): SlackMessage {
  const warning = input.uncheckedAuthor ? [uncheckedAuthorLine(input.uncheckedAuthor)] : [];
  return {
    text: fallbackText(input, headline(input)),
    blocks: capBlocks([...cardBlocks(input), ...warning, approvalButtons(input.approvalId)]),
  };
}

function outcomeLine(outcome: ApprovalOutcome): string {
  const by = outcome.slackUser ? ` by ${userMention(outcome.slackUser)}` : "";
  switch (outcome.kind) {
    case "approved":
      return `:white_check_mark: Approved${by} at ${slackDate(outcome.at)}`;
    case "rejected": {
      const reason = outcome.reason ? `: ${untrusted(outcome.reason, 2000)}` : "";
      return `:no_entry: Rejected${by}${reason}`;
    }
    case "expired":
      return `:hourglass: Expired at ${slackDate(outcome.at)} without a decision`;
    case "closed": {
      const reason = outcome.reason ? `: ${untrusted(outcome.reason, 2000)}` : "";
      return `:no_entry_sign: Closed without a decision at ${slackDate(outcome.at)}${reason}`;
    }
  }
}

const OUTCOME_WORD = {
  approved: "Approved",
  rejected: "Rejected",
  expired: "Expired",
  closed: "Closed",
} as const;

/** The approval card once decided: same content, no buttons, and who decided and when. */
export function decidedCard(input: ApprovalCardInput, outcome: ApprovalOutcome): SlackMessage {
  const lead = `${OUTCOME_WORD[outcome.kind]}: ${input.kind} of ${input.component} to ${input.environment}`;
  return {
    text: fallbackText(input, lead),
    blocks: capBlocks([...cardBlocks(input), context(outcomeLine(outcome))]),
  };
}

/** A reply under the card before it expires. */
export function reminderText(input: ApprovalCardInput, expiresAt: string): string {
  return cut(
    `:alarm_clock: Reminder: this approval expires ${slackDate(expiresAt)}: ${escapeMrkdwn(input.kind)} of ` +
      `${escapeMrkdwn(input.component)} to ${escapeMrkdwn(input.environment)} ` +
      `(${escapeMrkdwn(input.repo)} \`${short(input.sha)}\`). Approve or reject above.`,
    SLACK_LIMITS.sectionText,
  );
}

/** The modal Reject opens: the reason goes back to the model, which re-plans. */
export function rejectModal(approvalId: string, summary: string): View {
  if (approvalId.length === 0 || approvalId.length > SLACK_LIMITS.privateMetadata) {
    throw new Error(
      `approval id must be 1..${SLACK_LIMITS.privateMetadata} characters (it is private_metadata)`,
    );
  }
  return {
    type: "modal",
    callback_id: REJECT_CALLBACK_ID,
    private_metadata: approvalId,
    title: { type: "plain_text", text: "Reject deploy" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      section(summary.trim() ? untrusted(summary, SLACK_LIMITS.sectionText) : "Reject this request?"),
      {
        type: "input",
        block_id: REJECT_REASON_BLOCK_ID,
        label: { type: "plain_text", text: "Why? deploybot re-plans with your reason" },
        element: {
          type: "plain_text_input",
          action_id: REJECT_REASON_ACTION_ID,
          multiline: true,
          max_length: REJECT_REASON_MAX_LENGTH,
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Questions, progress and status

/** The model's question to a human (ask_human); answered by replying in the thread. */
export function questionMessage(question: string, reason: string, contextText: string): SlackMessage {
  const asked = untrusted(question, 2500);
  return {
    text: cut(`deploybot asks: ${escapeMrkdwn(question)}`, 300),
    blocks: [
      section(`:question: *deploybot asks*\n${quote(asked)}`),
      context(`*Why:* ${untrusted(reason, 1000)}`, untrusted(contextText, 1000)),
      context("Reply in this thread to answer."),
    ],
  };
}

export interface ProgressPullRequest {
  number: number;
  title: string;
  url: string;
}

/** First message of a thread; progress follows as replies under it. */
export function threadStarted(
  repo: string,
  pr: ProgressPullRequest | null,
  components: string[],
  requestText: string | null,
): string {
  const what = pr ? `${link(pr.url, `#${pr.number} ${untrusted(pr.title, 300)}`)} in ` : "";
  const parts = components.length > 0 ? components.map(escapeMrkdwn).join(", ") : "no components";
  const request = requestText ? `\n${quote(untrusted(requestText, 1500))}` : "";
  return cut(
    `:rocket: deploybot is on ${what}*${escapeMrkdwn(repo)}* (${parts})${request}`,
    SLACK_LIMITS.sectionText,
  );
}

export function deployStarted(
  component: string,
  environment: string,
  sha: string,
  runUrl: string | null,
): string {
  const run = runUrl ? ` (${link(runUrl, "workflow run")})` : "";
  return `:arrow_forward: Deploying ${escapeMrkdwn(component)} \`${short(sha)}\` to ${escapeMrkdwn(environment)}${run}`;
}

const OUTCOME_EMOJI: Record<string, string> = {
  success: ":white_check_mark:",
  failure: ":x:",
  error: ":x:",
  cancelled: ":heavy_multiplication_x:",
  timed_out: ":hourglass:",
};

export function deployFinished(
  component: string,
  environment: string,
  sha: string,
  outcome: string,
  summary: string,
  logUrl: string | null,
): string {
  const emoji = OUTCOME_EMOJI[outcome] ?? ":grey_question:";
  const log = logUrl ? ` (${link(logUrl, "log")})` : "";
  const detail = summary ? `\n${quote(untrusted(summary, 2000, logUrl ?? undefined))}` : "";
  return cut(
    `${emoji} ${escapeMrkdwn(component)} \`${short(sha)}\` to ${escapeMrkdwn(environment)}: ${untrusted(outcome, 50)}${log}${detail}`,
    SLACK_LIMITS.sectionText,
  );
}

export function threadDone(message: string): string {
  return `:checkered_flag: ${untrusted(message, 2900)}`;
}

export function threadFailed(reason: string): string {
  return `:warning: deploybot stopped: ${untrusted(reason, 2900)}`;
}

/** Ephemeral answer to a click that policy refused (not an approver, the PR's author, already decided…). */
export function refusedClick(reason: string): string {
  return `:no_entry_sign: ${untrusted(reason, 2900)}`;
}

/** The progress helpers, grouped. */
export const progressText = {
  threadStarted,
  deployStarted,
  deployFinished,
  threadDone,
  threadFailed,
  refusedClick,
} as const;

const STATUS_MAX_THREADS = 20;

/** The answer to `/deploybot status`. */
export function statusBlocks(threads: StatusThread[]): SlackMessage {
  if (threads.length === 0) {
    return { text: "No deploys running.", blocks: [section("No deploys running.")] };
  }
  const shown = threads.slice(0, STATUS_MAX_THREADS);
  const blocks: KnownBlock[] = [section(`*Deploys in progress* (${threads.length})`)];
  for (const thread of shown) {
    const waiting = thread.waitingOn ? ` · waiting on ${untrusted(thread.waitingOn, 200)}` : "";
    blocks.push(
      section(
        `*${untrusted(thread.title, 300)}*\n${untrusted(thread.status, 200)}${waiting} · updated ${slackDate(thread.updatedAt)} · \`${untrusted(thread.id, 100)}\``,
      ),
    );
  }
  if (threads.length > shown.length) blocks.push(context(`and ${threads.length - shown.length} more`));
  const noun = threads.length === 1 ? "deploy" : "deploys";
  return { text: `${threads.length} ${noun} in progress`, blocks: capBlocks(blocks) };
}
