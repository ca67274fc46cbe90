import { deployActionOf, type NextStep } from "../thread/next-step.js";
import { escapeHtml, link } from "./dashboard-html.js";
import { short } from "../thread/text.js";

/** What a thread page links to (commits, deployments, Slack messages) and how it names a step. */

export interface ThreadPageContext {
  /** `https://github.com`, or the GitHub Enterprise Server's web address. */
  githubUrl: string;
  /** Slack's web address for message links: the origin of SLACK_API_URL (`https://slack.com`). */
  slackUrl?: string;
  now: Date;
  csrf: string;
  /** Show the bookkeeping events too (intents recorded before a write to GitHub or Slack). */
  allEvents?: boolean;
  /** A note after an action ("Pause queued."), or an error to show. */
  flash?: { kind: "ok" | "error"; text: string } | null;
}

export function repoUrl(ctx: ThreadPageContext, repo: string): string {
  return `${ctx.githubUrl}/${repo}`;
}

export function commitLink(ctx: ThreadPageContext, repo: string, sha: string): string {
  return `<code>${link(`${repoUrl(ctx, repo)}/commit/${sha}`, short(sha))}</code>`;
}

export function deploymentLink(
  ctx: ThreadPageContext,
  repo: string,
  id: number | null,
  environment: string,
): string {
  if (id === null) return "";
  return link(`${repoUrl(ctx, repo)}/deployments/${encodeURIComponent(environment)}`, `deployment ${id}`);
}

/** A Slack message's web address (slack.com sends the viewer on to their workspace). */
export function slackMessageUrl(channel: string, ts: string, slackUrl = "https://slack.com"): string {
  return `${slackUrl}/archives/${encodeURIComponent(channel)}/p${ts.replace(".", "")}`;
}

/** A step in words: "deploy backend 0123456 to production", with the commit linked. */
export function describeStep(ctx: ThreadPageContext, repo: string, step: NextStep): string {
  const action = deployActionOf(step);
  if (action) {
    const verb = action.kind === "rollback" ? "roll back" : "deploy";
    const to = action.kind === "rollback" ? " to " : " ";
    return `${verb} <strong>${escapeHtml(action.component)}</strong>${to}${commitLink(ctx, repo, action.sha)} in <strong>${escapeHtml(action.environment)}</strong>`;
  }
  if (step.intent === "ask_human")
    return `ask a human: ${escapeHtml((step as { question: string }).question)}`;
  if (step.intent === "done_for_now") return `finish: ${escapeHtml((step as { message: string }).message)}`;
  return escapeHtml(step.intent);
}
