import type { RepoConfig } from "../config/repo-config.js";
import { deciderLabel, eventsOf, lastOf, type EventOf, type ThreadEvent } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import { quorumText } from "../thread/quorum.js";
import { deployActionOf, type NextStep } from "../thread/next-step.js";
import { BOUND, commitNamer, name, quoteUntrusted, who } from "./context-quote.js";

/** The `<events>` of the model's context: one line per event that matters for the next step. */

function stepText(step: NextStep, named: (sha: string) => string): string {
  const action = deployActionOf(step);
  if (!action) return step.intent;
  return action.kind === "deploy"
    ? `deploy ${action.component} ${named(action.sha)} to ${action.environment}`
    : `rollback ${action.component} in ${action.environment} to ${named(action.sha)}`;
}

/** The line of one event, or null for events that carry nothing for the next decision. */
export function eventLine(
  event: ThreadEvent,
  events: readonly ThreadEvent[],
  config: RepoConfig,
): string | null {
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
    case "step_deferred": {
      // A held step is judged again by itself when its hold ends: proposing it again changes nothing.
      const until = event.data.until ? ` (judged again at ${event.data.until.slice(0, 16)}Z)` : "";
      return `waiting: ${stepText(event.data.step, named)} held: ${name(event.data.reason, 200)}${until}`;
    }
    case "approval_requested":
      return `approval requested for ${stepText(event.data.step, named)}${
        (event.data.approvals_required ?? 1) > 1
          ? ` (needs ${event.data.approvals_required} distinct approvers)`
          : ""
      }${event.data.expires_at ? ` (expires ${event.data.expires_at.slice(0, 16)})` : ""}`;
    case "approval_granted":
      return `approved by ${name(deciderLabel(event.data), 60)}${approvalProgress(events, event)}`;
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
export function isResolved(event: ThreadEvent, lastSuccessSeq: number): boolean {
  return event.seq < lastSuccessSeq && (event.type === "decision_error" || event.type === "policy_refused");
}

/** ", 1 of 2 approvals" after an approval of a request that needs several; empty otherwise. */
function approvalProgress(events: readonly ThreadEvent[], granted: EventOf<"approval_granted">): string {
  const upTo = events.filter((e) => e.seq <= granted.seq);
  const progress = deriveState(upTo).approvals;
  if (!progress || progress.approvalId !== granted.data.approval_id || progress.required < 2) return "";
  return progress.count >= progress.required
    ? `, ${quorumText(progress)}: approved`
    : `, ${quorumText(progress)}`;
}
