import type { KnownBlock } from "@slack/web-api";
import { short } from "../thread/text.js";
import { cut, escapeMrkdwn, link, quote, slackDate, untrusted, userMention } from "./mrkdwn.js";
import { capBlocks, context, section, SLACK_LIMITS, type SlackMessage } from "./block-kit.js";

/** Slack messages about a thread's progress: questions, started and finished steps, the status list. */

export interface StatusThread {
  id: string;
  title: string;
  status: string;
  waitingOn: string | null;
  /** ISO 8601 */
  updatedAt: string;
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

/**
 * The loud message in the channel when someone broke glass: who, in which environment, why, and
 * what the step ran without.
 */
export function breakGlassUsed(input: {
  by: string;
  channel: string;
  step: string;
  reason: string;
  skipped: string[];
}): string {
  const without = input.skipped.length ? ` without ${input.skipped.map(escapeMrkdwn).join(", ")}` : "";
  return cut(
    `:rotating_light: *Break-glass* by ${userMention(input.by)} (${escapeMrkdwn(input.channel)}): ${escapeMrkdwn(input.step)}${without}. Reason: ${untrusted(input.reason, 500)}`,
    SLACK_LIMITS.sectionText,
  );
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
