import { type NextStep } from "../thread/next-step.js";
import { type Thread, type ThreadEvent } from "../thread/events.js";
import { escapeHtml, link, timeTag } from "./dashboard-html.js";
import { clip, short } from "../thread/text.js";
import {
  commitLink,
  deploymentLink,
  describeStep,
  slackMessageUrl,
  type ThreadPageContext,
} from "./dashboard-thread-links.js";

/** The thread page's timeline: one row per event, what it was and its details, with links. */

interface Row {
  what: string;
  details: string;
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

export function timelineRow(ctx: ThreadPageContext, thread: Thread, event: ThreadEvent): Row {
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
    case "break_glass_used":
      return {
        what: "Break-glass",
        details: `<span class="bad">${escapeHtml(event.data.by)}</span> ran ${describeStep(ctx, repo, event.data.step)} without ${escapeHtml(event.data.skipped.join(", ") || "its holds")}: “${escapeHtml(event.data.reason)}”`,
      };
    case "verify_dispatched":
      return {
        what: "Verification dispatched",
        details: `<code>${escapeHtml(event.data.workflow)}</code> for ${escapeHtml(event.data.component)} ${commitLink(ctx, repo, event.data.sha)} in ${escapeHtml(event.data.environment)}`,
      };
    case "verify_finished": {
      const d = event.data;
      const cls = d.conclusion === "success" ? "ok" : "bad";
      return {
        what: "Verification finished",
        details: `<span class="${cls}">${escapeHtml(d.conclusion)}</span>: ${escapeHtml(d.component)} ${commitLink(ctx, repo, d.sha)} in ${escapeHtml(d.environment)}${d.summary ? `<br>${escapeHtml(d.summary)}` : ""}${d.url ? ` · ${link(d.url, "run")}` : ""}`,
      };
    }
  }
}
