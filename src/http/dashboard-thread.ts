import { deployActionOf, type NextStep } from "../thread/next-step.js";
import type { ThreadSummary } from "../store/store.js";
import { lastOf, type Thread, type ThreadEvent } from "../thread/events.js";
import { deriveState, type ThreadState } from "../thread/state.js";
import { escapeHtml, link, statusBadge, timeTag } from "./dashboard-html.js";
import { clip, short } from "../thread/text.js";

/**
 * A thread as a web page: what it is about, the actions that apply to it now, and a timeline with
 * one row per event, its time, and links to what it touched on GitHub and in Slack.
 */

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

interface Row {
  what: string;
  details: string;
}

function repoUrl(ctx: ThreadPageContext, repo: string): string {
  return `${ctx.githubUrl}/${repo}`;
}

function commitLink(ctx: ThreadPageContext, repo: string, sha: string): string {
  return `<code>${link(`${repoUrl(ctx, repo)}/commit/${sha}`, short(sha))}</code>`;
}

function deploymentLink(
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

function reasonOf(step: NextStep): string {
  return "reason" in step && typeof step.reason === "string" ? step.reason : "";
}

/** Who decided an approval, and through which channel, from whichever fields the event carries. */
function approverOf(data: Record<string, unknown>): string {
  const who = [data.by, data.client, data.github_login, data.slack_user].find(
    (value): value is string => typeof value === "string" && value.length > 0,
  );
  const channel = typeof data.channel === "string" ? data.channel : "slack";
  return `by <strong>${escapeHtml(who ?? "someone")}</strong> via ${escapeHtml(channel)}`;
}

function tokens(data: { tokens_in: number | null; tokens_out: number | null }): string {
  if (data.tokens_in === null && data.tokens_out === null) return "no tokens";
  return `${data.tokens_in ?? "?"} tokens in, ${data.tokens_out ?? "?"} out`;
}

function describe(ctx: ThreadPageContext, thread: Thread, event: ThreadEvent): Row {
  const repo = thread.repo;
  switch (event.type) {
    case "pr_merged": {
      const d = event.data;
      return {
        what: "Pull request merged",
        details: `${link(d.html_url, `#${d.number} ${d.title}`)} by ${escapeHtml(d.author)} into <code>${escapeHtml(d.base_ref)}</code> as ${commitLink(ctx, repo, d.merge_sha)}`,
      };
    }
    case "chat_request": {
      const d = event.data;
      const who = d.requested_by ?? d.slack_user ?? "someone";
      return {
        what: `Request (${escapeHtml(d.source)})`,
        details: `${escapeHtml(who)} asked: “${escapeHtml(d.text)}”${d.channel && d.ts ? ` · ${link(slackMessageUrl(d.channel, d.ts, ctx.slackUrl), "Slack message")}` : ""}`,
      };
    }
    case "branch_head":
      return {
        what: "Branch head",
        details: `<code>${escapeHtml(event.data.branch)}</code> at ${commitLink(ctx, repo, event.data.sha)}`,
      };
    case "config_loaded":
      return {
        what: "Config loaded",
        details: `<code>.github/deploybot.yml</code> from <code>${escapeHtml(event.data.default_branch)}</code>`,
      };
    case "config_invalid":
      return {
        what: "Config invalid",
        details: `<code>${escapeHtml(event.data.file)}</code>: ${escapeHtml(event.data.problems.join("; "))}`,
      };
    case "changes_classified": {
      const d = event.data;
      const parts = d.components.map(
        (c) =>
          `<strong>${escapeHtml(c.name)}</strong> (${c.files_total} file${c.files_total === 1 ? "" : "s"})`,
      );
      return {
        what: "Changes classified",
        details: `${d.files_total} file${d.files_total === 1 ? "" : "s"}: ${parts.join(", ") || "no component"}${d.unmatched_total ? `, ${d.unmatched_total} outside any component` : ""}`,
      };
    }
    case "deployed_versions": {
      const rows = event.data.entries.map(
        (e) =>
          `${escapeHtml(e.component)}/${escapeHtml(e.environment)}: ${e.sha ? commitLink(ctx, repo, e.sha) : "nothing yet"}`,
      );
      return { what: "Deployed versions", details: rows.join(" · ") };
    }
    case "ci_state": {
      const d = event.data;
      const cls = d.state === "success" ? "ok" : d.state === "failure" ? "bad" : "muted";
      return {
        what: "CI state",
        details: `<span class="${cls}">${escapeHtml(d.state)}</span> on ${commitLink(ctx, repo, d.sha)}: ${escapeHtml(d.summary)}`,
      };
    }
    case "decision": {
      const d = event.data;
      const reason = reasonOf(d.step);
      return {
        what: "Decision",
        details: `${describeStep(ctx, repo, d.step)}${reason ? `<br>Reason: ${escapeHtml(reason)}` : ""}<br><span class="muted">decider ${escapeHtml(d.decider)}, model ${escapeHtml(d.model)}, ${tokens(d)}, ${d.latency_ms} ms, prompt ${escapeHtml(clip(d.prompt_hash, 12))}</span>`,
      };
    }
    case "decision_error": {
      const d = event.data;
      return {
        what: "Decision error",
        details: `<span class="bad">${escapeHtml(d.error)}</span><br><span class="muted">decider ${escapeHtml(d.decider)}, model ${escapeHtml(d.model)}, ${tokens(d)}, ${d.latency_ms} ms</span>`,
      };
    }
    case "policy_refused":
      return {
        what: "Policy refused",
        details: `${describeStep(ctx, repo, event.data.step)}: <span class="bad">${escapeHtml(event.data.reason)}</span>`,
      };
    case "step_deferred":
      return {
        what: "Queued",
        details: `${describeStep(ctx, repo, event.data.step)}: ${escapeHtml(event.data.reason)}`,
      };
    case "approval_requested":
      return {
        what: "Approval requested",
        details: `${describeStep(ctx, repo, event.data.step)}${event.data.expires_at ? `; expires ${timeTag(event.data.expires_at, ctx.now)}` : ""}`,
      };
    case "approval_granted":
      return {
        what: "Approved",
        details: `<span class="ok">approved</span> ${approverOf(event.data as Record<string, unknown>)}`,
      };
    case "approval_rejected":
      return {
        what: "Rejected",
        details: `<span class="bad">rejected</span> ${approverOf(event.data as Record<string, unknown>)}: “${escapeHtml(event.data.reason)}”`,
      };
    case "approval_expired":
      return { what: "Approval expired", details: `approval ${escapeHtml(event.data.approval_id)} expired` };
    case "deploy_authorized":
      return {
        what: "Authorized",
        details: `the policy allows: ${describeStep(ctx, repo, event.data.step)}`,
      };
    case "deployment_created": {
      const d = event.data;
      return {
        what: "Deployment created",
        details: `${deploymentLink(ctx, repo, d.deployment_id, d.environment)} of ${escapeHtml(d.component)} ${commitLink(ctx, repo, d.sha)} to ${escapeHtml(d.environment)}`,
      };
    }
    case "deploy_dispatched": {
      const d = event.data;
      const run = d.run_url ? ` · ${link(d.run_url, d.run_id ? `run ${d.run_id}` : "workflow run")}` : "";
      return {
        what: "Workflow dispatched",
        details: `<code>${escapeHtml(d.workflow)}</code> for deployment ${d.deployment_id}${run}`,
      };
    }
    case "deploy_finished": {
      const d = event.data;
      const cls = d.outcome === "success" ? "ok" : "bad";
      return {
        what: d.outcome === "success" ? "Deploy succeeded" : "Deploy failed",
        details: `<span class="${cls}">${escapeHtml(d.outcome)}</span>: ${escapeHtml(d.component)} ${commitLink(ctx, repo, d.sha)} in ${escapeHtml(d.environment)} (${deploymentLink(ctx, repo, d.deployment_id, d.environment) || "no deployment"})<br>${escapeHtml(d.summary)}${d.log_url ? ` · ${link(d.log_url, "logs")}` : ""}`,
      };
    }
    case "human_needed":
      return {
        what: "Question",
        details: `${escapeHtml(event.data.question)}<br><span class="muted">${escapeHtml(event.data.reason)}</span>`,
      };
    case "human_answered":
      return {
        what: "Answer",
        details: `“${escapeHtml(event.data.answer)}”${event.data.slack_user ? ` by ${escapeHtml(event.data.slack_user)}` : ""}`,
      };
    case "slack_posted": {
      const d = event.data;
      if (d.error) return { what: "Slack refused", details: escapeHtml(d.error) };
      return {
        what: "Slack message",
        details: `${escapeHtml(d.purpose.replace("_", " "))} in <code>${escapeHtml(d.channel)}</code>${d.ts ? ` · ${link(slackMessageUrl(d.channel, d.ts, ctx.slackUrl), "open in Slack")}` : ""}`,
      };
    }
    case "slack_posting":
      return { what: "Posting to Slack", details: `<code>${escapeHtml(event.data.key)}</code>` };
    case "github_writing":
      return { what: "Writing to GitHub", details: `<code>${escapeHtml(event.data.key)}</code>` };
    case "pr_comment_posting":
      return { what: "Commenting", details: `on pull request #${event.data.number}` };
    case "pr_comment_synced": {
      const d = event.data;
      return {
        what: "PR comment",
        details: d.error
          ? `<span class="bad">${escapeHtml(d.error)}</span>`
          : `pull request #${d.number} comment ${d.comment_id ?? ""} updated`,
      };
    }
    case "run_dispatched":
      return {
        what: "Workflow dispatched",
        details: `<code>${escapeHtml(event.data.workflow)}</code> as run ${event.data.run_id}; waiting for the deployment its job creates`,
      };
    case "pr_found":
      return {
        what: "Pull request found",
        details: `<code>${escapeHtml(short(event.data.sha))}</code> is the merge of #${event.data.number} by ${escapeHtml(event.data.author)}`,
      };
    case "commits_compared": {
      const d = event.data;
      return {
        what: "Commits compared",
        details: `<code>${escapeHtml(short(d.head))}</code> is ${escapeHtml(d.status)} of <code>${escapeHtml(short(d.base))}</code> (${d.ahead_by} ahead, ${d.behind_by} behind)`,
      };
    }
    case "service_unavailable":
      return {
        what: "Service unavailable",
        details: `${escapeHtml(event.data.service)}: ${escapeHtml(event.data.error)}`,
      };
    case "paused":
      return {
        what: "Paused",
        details: `by <strong>${escapeHtml(event.data.by)}</strong>${event.data.reason ? `: ${escapeHtml(event.data.reason)}` : ""}`,
      };
    case "resumed":
      return { what: "Resumed", details: `by <strong>${escapeHtml(event.data.by)}</strong>` };
    case "cancelled":
      return {
        what: "Cancelled",
        details: `by <strong>${escapeHtml(event.data.by)}</strong>${event.data.reason ? `: ${escapeHtml(event.data.reason)}` : ""}`,
      };
    case "done":
      return { what: "Done", details: `<span class="ok">${escapeHtml(event.data.message)}</span>` };
    case "failed":
      return { what: "Failed", details: `<span class="bad">${escapeHtml(event.data.reason)}</span>` };
  }
}

function hidden(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
}

/** The forms that apply to the thread now. */
function actionsOf(ctx: ThreadPageContext, thread: Thread, state: ThreadState): string {
  if (state.terminal) return `<p class="muted">This thread has ended: nothing to do.</p>`;
  const base = `/threads/${encodeURIComponent(thread.id)}`;
  const forms: string[] = [];
  if (state.pendingApproval) {
    forms.push(
      `<form method="post" action="${base}/approve">${hidden(ctx.csrf)}<span>${describeStep(ctx, thread.repo, state.pendingApproval.data.step)}</span><button type="submit" class="primary">Approve</button></form>`,
    );
    forms.push(
      `<form method="post" action="${base}/reject">${hidden(ctx.csrf)}<label for="reject-reason">Reason for rejecting</label><textarea id="reject-reason" name="reason" rows="2" cols="30" required maxlength="2000"></textarea><button type="submit" class="danger">Reject</button></form>`,
    );
  }
  if (state.paused) {
    forms.push(
      `<form method="post" action="${base}/resume">${hidden(ctx.csrf)}<button type="submit">Resume</button></form>`,
    );
  } else {
    forms.push(
      `<form method="post" action="${base}/pause">${hidden(ctx.csrf)}<label for="pause-reason">Reason for pausing (optional)</label><input type="text" id="pause-reason" name="reason" maxlength="500"><button type="submit">Pause</button></form>`,
    );
  }
  forms.push(
    `<form method="post" action="${base}/cancel">${hidden(ctx.csrf)}<label for="cancel-reason">Reason for cancelling (optional)</label><input type="text" id="cancel-reason" name="reason" maxlength="500"><button type="submit" class="danger">Cancel thread</button></form>`,
  );
  return `<div class="actions">${forms.join("")}</div>`;
}

/** Records of an intent before a write, kept for crash recovery: hidden unless asked for. */
const BOOKKEEPING = new Set<ThreadEvent["type"]>(["slack_posting", "github_writing", "pr_comment_posting"]);

export function renderThreadPage(ctx: ThreadPageContext, thread: Thread, summary: ThreadSummary): string {
  const state = deriveState(thread.events);
  const merged = lastOf(thread.events, "pr_merged");
  const shown = ctx.allEvents ? thread.events : thread.events.filter((e) => !BOOKKEEPING.has(e.type));
  const hiddenCount = thread.events.length - shown.length;
  const rows = shown.map((event) => {
    const row = describe(ctx, thread, event);
    return `<tr id="e${event.seq}"><td>${event.seq}</td><td class="when">${timeTag(event.at, ctx.now)}</td><th scope="row">${escapeHtml(row.what)}</th><td>${row.details}</td></tr>`;
  });
  const base = `/threads/${encodeURIComponent(thread.id)}`;
  const toggle = ctx.allEvents
    ? `<p><a href="${base}">Hide bookkeeping events</a></p>`
    : hiddenCount > 0
      ? `<p><a href="${base}?all=1">Show all ${thread.events.length} events</a> (${hiddenCount} bookkeeping events hidden)</p>`
      : "";
  const flash = ctx.flash
    ? `<p class="${ctx.flash.kind === "ok" ? "flash" : "error"}" role="status">${escapeHtml(ctx.flash.text)}</p>`
    : "";
  return `${flash}<h1>${escapeHtml(summary.title)}</h1>
<dl class="facts"><dt>Status</dt><dd>${statusBadge(state.status)}${state.waitingOn ? ` <span class="muted">waiting for ${escapeHtml(state.waitingOn)}</span>` : ""}</dd>
<dt>Repository</dt><dd>${link(repoUrl(ctx, thread.repo), thread.repo)}</dd>
${merged ? `<dt>Pull request</dt><dd>${link(merged.data.html_url, `#${merged.data.number} ${merged.data.title}`)} by ${escapeHtml(merged.data.author)}</dd><dt>Commit</dt><dd>${commitLink(ctx, thread.repo, merged.data.merge_sha)}</dd>` : ""}
<dt>Started</dt><dd>${timeTag(thread.createdAt, ctx.now)}</dd><dt>Updated</dt><dd>${timeTag(summary.updatedAt, ctx.now)}</dd><dt>Thread</dt><dd><code>${escapeHtml(thread.id)}</code></dd></dl>
<h2>Actions</h2>${actionsOf(ctx, thread, state)}
<h2>Timeline</h2>
${toggle}<table><caption>${shown.length} events, oldest first</caption><thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Details</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}
