import type { ThreadSummary } from "../store/store.js";
import { lastOf, type Thread, type ThreadEvent } from "../thread/events.js";
import { deriveState, type ThreadState } from "../thread/state.js";
import { escapeHtml, link, statusBadge, timeTag } from "./dashboard-html.js";
import { commitLink, describeStep, repoUrl, type ThreadPageContext } from "./dashboard-thread-links.js";
import { timelineRow } from "./dashboard-timeline.js";
import { quorumText } from "../thread/quorum.js";

/**
 * A thread as a web page: what it is about, the actions that apply to it now, and a timeline with
 * one row per event, its time, and links to what it touched on GitHub and in Slack.
 */

function hidden(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
}

/** " (1 of 2 approvals: U01APPROVER)" beside a request that needs several approvers. */
function quorumNote(state: ThreadState): string {
  const progress = state.approvals;
  if (!progress || progress.required < 2) return "";
  const who = progress.counted.length ? `: ${progress.counted.join(", ")}` : "";
  return ` <span class="muted">(${escapeHtml(`${quorumText(progress)}${who}`)})</span>`;
}

/** The forms that apply to the thread now. */
function actionsOf(ctx: ThreadPageContext, thread: Thread, state: ThreadState): string {
  if (state.terminal) return `<p class="muted">This thread has ended: nothing to do.</p>`;
  const base = `/threads/${encodeURIComponent(thread.id)}`;
  const forms: string[] = [];
  if (state.pendingApproval) {
    forms.push(
      `<form method="post" action="${base}/approve">${hidden(ctx.csrf)}<span>${describeStep(ctx, thread.repo, state.pendingApproval.data.step)}${quorumNote(state)}</span><button type="submit" class="primary">Approve</button></form>`,
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
    const row = timelineRow(ctx, thread, event);
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
