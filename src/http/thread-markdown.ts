import { mdText, SAFE_URL } from "../github/markdown.js";
import { deciderLabel, type EventOf, type Thread, type ThreadEvent } from "../thread/events.js";
import { deployActionOf, type NextStep } from "../thread/next-step.js";
import { deriveState } from "../thread/state.js";
import type { z } from "zod";
import type { ApprovalsView } from "./api-schemas.js";
import { short, truncate } from "../thread/text.js";

/**
 * A thread as a short markdown summary for people (`GET /api/v1/threads/{id}` in markdown). Raw
 * payloads never appear; text from outside is bounded and made inert.
 */

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
      return `approval requested for ${mdStep(event.data.step)}${
        (event.data.approvals_required ?? 1) > 1
          ? ` (needs ${event.data.approvals_required} distinct approvers)`
          : ""
      }`;
    case "approval_granted":
      return `approved by ${mdText(deciderLabel(event.data), 60)}`;
    case "approval_rejected":
      return `rejected by ${mdText(deciderLabel(event.data), 60)}: ${mdText(event.data.reason, 200)}`;
    case "run_dispatched":
      return `workflow \`${truncate(event.data.workflow.replace(/`/g, ""), 100)}\` dispatched (run ${event.data.run_id})`;
    case "pr_found":
      return `commit \`${short(event.data.sha)}\` is the merge of PR #${event.data.number} by ${mdText(event.data.author, 60)}`;
    case "approval_expired":
      return "approval expired";
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
      return `requested ${event.data.source === "pr_comment" ? "in a pull request comment" : event.data.slack_user ? "in Slack" : "through the API"}: ${mdText(event.data.text, 200)}`;
    case "branch_head":
      return `tip of ${mdText(event.data.branch, 60)} is \`${short(event.data.sha)}\``;
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
    case "commits_compared":
      return `\`${short(event.data.head)}\` is ${event.data.status} \`${short(event.data.base)}\``;
    case "break_glass_used":
      return `**break-glass** by ${mdText(event.data.by, 60)} for ${mdStep(event.data.step)}: ${mdText(event.data.reason, 200)}`;
    case "verify_dispatched":
      return `verification \`${truncate(event.data.workflow.replace(/`/g, ""), 100)}\` of ${event.data.component} dispatched in ${event.data.environment}`;
    case "verify_finished": {
      const d = event.data;
      const head = `verification of ${d.component} \`${short(d.sha)}\` in ${d.environment}: **${d.conclusion}**`;
      return d.summary && d.conclusion === "failure" ? `${head}: ${mdText(d.summary, 200)}` : head;
    }
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

/** The REST API's view of the thread's approval quorum: "1 of 2", and who approved. */
export function approvalsView(thread: Thread): z.infer<typeof ApprovalsView> | null {
  const state = deriveState(thread.events);
  const progress = state.approvals;
  if (!progress) return null;
  return {
    approval_id: progress.approvalId,
    pending: state.pendingApproval?.data.approval_id === progress.approvalId,
    approvals_required: progress.required,
    approvals: progress.count,
    approved_by: progress.counted,
  };
}
