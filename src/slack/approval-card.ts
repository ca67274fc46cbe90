import type { ActionsBlock, ContextBlock, KnownBlock } from "@slack/web-api";
import { clip, short } from "../thread/text.js";
import { quorumText } from "../thread/quorum.js";
import {
  commitUrl,
  compareUrl,
  cut,
  escapeMrkdwn,
  firstLine,
  linesWithin,
  link,
  quote,
  repoUrl,
  slackDate,
  untrusted,
  userMention,
} from "./mrkdwn.js";
import {
  capBlocks,
  context,
  fieldsSection,
  header,
  section,
  SLACK_LIMITS,
  type SlackMessage,
} from "./block-kit.js";

/** The approval card: the request, its decided form and its reminder. Pure functions from domain data. */

export const APPROVE_ACTION_ID = "deploybot.approve";
export const REJECT_ACTION_ID = "deploybot.reject";

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
  /** How far a request that needs several approvers got, and who approved it so far. */
  quorum?: { count: number; required: number; counted: string[] } | null;
  /** Why approval is asked beyond the environment's setting, e.g. a deploy outside its windows. */
  why?: string | null;
}

export interface ApprovalOutcome {
  /** `closed`: the thread ended (cancelled, finished, superseded) while the approval was open. */
  kind: "approved" | "rejected" | "expired" | "closed";
  slackUser: string | null;
  /** ISO 8601 */
  at: string;
  reason?: string;
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

  if (input.quorum && input.quorum.required > 1) blocks.push(context(quorumLine(input.quorum)));
  if (input.why) blocks.push(section(`*Approval needed because* ${untrusted(input.why, 500)}`));
  blocks.push(section(changesText(input)));
  blocks.push(
    section(
      `*Why* (${untrusted(input.decider, 100)})\n${quote(untrusted(input.reason || "(no reason given)", 2500))}`,
    ),
  );
  return blocks;
}

/** "1 of 2 approvals: @alice": the card is updated in place after each approval. */
function quorumLine(quorum: NonNullable<ApprovalCardInput["quorum"]>): string {
  const who = quorum.counted.length
    ? `: ${quorum.counted.map((c) => userMention(clip(c, 100))).join(", ")}`
    : "";
  return `:busts_in_silhouette: ${quorumText(quorum)}${who}`;
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
