import { createHash } from "node:crypto";
import type { RepoConfig } from "../config/repo-config.js";
import { deployActionOf, describeStep } from "../thread/next-step.js";
import { quorumText } from "../thread/quorum.js";
import { deciderLabel, eventsOf, lastOf, type EventOf, type Thread } from "../thread/events.js";
import { holdOfKey } from "../thread/hold-keys.js";
import { mdText, SAFE_URL } from "../github/markdown.js";
import { changedComponents, deriveState, type ThreadState } from "../thread/state.js";
import { short } from "../thread/text.js";

/**
 * The one comment a thread keeps on its pull request, as a pure function of the thread: a table of
 * each changed component in each environment, what the thread waits for and from whom, where a
 * rollback would go, the last decision's reason, and a summary once it ends. A hidden marker names
 * the thread, so the comment is found again after a crash instead of being posted twice.
 */

export function prCommentMarker(threadId: string): string {
  return `<!-- deploybot:thread=${threadId} -->`;
}

/** A short digest of a body: the comment is updated only when it would change. */
export function bodyDigest(body: string): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 16);
}

const link = (text: string, url: string | null | undefined) =>
  url && SAFE_URL.test(url) ? `[${text}](${url})` : text;

function cell(thread: Thread, state: ThreadState, component: string, environment: string): string {
  const finished = eventsOf(thread.events, "deploy_finished").filter(
    (e) => e.data.component === component && e.data.environment === environment,
  );
  const inFlight = state.inFlight?.authorized.data;
  if (inFlight && inFlight.component === component && inFlight.environment === environment) {
    const run = state.inFlight?.dispatched?.data.run_url;
    const verb = inFlight.kind === "rollback" ? "rolling back to" : "deploying";
    return `🚀 ${verb} \`${short(inFlight.sha)}\`${run ? ` · ${link("run", run)}` : ""}`;
  }
  const pending = state.pendingApproval ? deployActionOf(state.pendingApproval.data.step) : null;
  if (pending && pending.component === component && pending.environment === environment) {
    return `⏸ waiting for approval of \`${short(pending.sha)}\``;
  }
  const deferred = state.deferred ? deployActionOf(state.deferred.data.step) : null;
  if (deferred && deferred.component === component && deferred.environment === environment) {
    // A manual lock, window, freeze, bake or verification says what holds the step and until when.
    const held = holdOfKey(state.deferred!.data.lock_key);
    return held ? `⏳ ${mdText(state.deferred!.data.reason, 200)}` : `⏳ queued behind another deploy`;
  }
  const last = finished.at(-1);
  if (!last) return "·";
  const dispatched = eventsOf(thread.events, "deploy_dispatched").find(
    (e) => e.data.deployment_id !== null && e.data.deployment_id === last.data.deployment_id,
  );
  const details = [
    last.data.deployment_id !== null ? `deployment ${last.data.deployment_id}` : null,
    dispatched?.data.run_url ? link("run", dispatched.data.run_url) : null,
    last.data.log_url && last.data.log_url !== dispatched?.data.run_url
      ? link("log", last.data.log_url)
      : null,
  ].filter(Boolean);
  const verified = verificationMark(thread, last);
  const mark = last.data.outcome === "success" ? `✅ deployed${verified}` : "❌ failed";
  return `${mark} \`${short(last.data.sha)}\`${details.length ? ` · ${details.join(" · ")}` : ""}`;
}

/** The verification of a successful deploy, when the environment has one: running, passed or failed. */
function verificationMark(thread: Thread, finished: EventOf<"deploy_finished">): string {
  const { component, environment, sha } = finished.data;
  let mark = "";
  for (const e of thread.events) {
    if (e.seq <= finished.seq || (e.type !== "verify_dispatched" && e.type !== "verify_finished")) continue;
    if (e.data.component !== component || e.data.environment !== environment || e.data.sha !== sha) continue;
    if (e.type === "verify_dispatched") mark = ", 🔍 verifying";
    else {
      const run = link("verification", e.data.url);
      const outcome = e.data.conclusion === "success" ? "passed" : e.data.conclusion.replace("_", " ");
      mark = `, ${e.data.conclusion === "success" ? "✅" : "❌"} ${run} ${outcome}`;
    }
  }
  return mark;
}

/** Who approved or rejected a step to an environment, in this thread, and through which channel. */
function approvals(thread: Thread): string[] {
  const requests = new Map(
    eventsOf(thread.events, "approval_requested").map((e) => [e.data.approval_id, e.data.step]),
  );
  return thread.events.flatMap((event) => {
    if (event.type !== "approval_granted" && event.type !== "approval_rejected") return [];
    const action = requests.get(event.data.approval_id);
    const step = action ? deployActionOf(action) : null;
    if (!step) return [];
    const what = `${step.component} \`${short(step.sha)}\` to ${mdText(step.environment, 60)}`;
    return event.type === "approval_granted"
      ? [`${what} approved by ${mdText(deciderLabel(event.data), 80)}`]
      : [`${what} rejected by ${mdText(deciderLabel(event.data), 80)}: ${mdText(event.data.reason, 200)}`];
  });
}

/** Each break-glass, loudly: who, what ran without what, and why. */
function breakGlassLines(thread: Thread): string[] {
  return eventsOf(thread.events, "break_glass_used").map(({ data }) => {
    const without = data.skipped.length ? ` without ${data.skipped.join(", ")}` : "";
    return `🚨 **Break-glass** by ${mdText(deciderLabel(data), 80)}: ${mdText(describeStep(data.step), 120)}${without}. Reason: ${mdText(data.reason, 300)}`;
  });
}

function waitingLine(state: ThreadState, config: RepoConfig): string | null {
  if (state.terminal) return null;
  if (state.pendingApproval) {
    const action = deployActionOf(state.pendingApproval.data.step);
    const environment = config.environments.find((e) => e.name === action?.environment);
    const named = (ids: string[]) => ids.map((a) => `\`${mdText(a, 40)}\``).join(", ");
    const slack = environment?.approvers.filter((a) => !a.startsWith("api:")) ?? [];
    const api = environment?.approvers.filter((a) => a.startsWith("api:")) ?? [];
    const github = environment?.github_approvers ?? [];
    const groups = [
      slack.length ? `${named(slack)} (Slack)` : null,
      github.length ? `${named(github)} (GitHub: \`/deploybot approve\`)` : null,
      api.length ? `${named(api)} (REST API)` : null,
    ].filter(Boolean);
    const who = groups.length ? ` from one of ${groups.join(", ")}` : "";
    const until = state.pendingApproval.data.expires_at
      ? ` (until ${state.pendingApproval.data.expires_at.replace(/\.\d+Z$/, "Z")})`
      : "";
    const why = state.pendingApproval.data.why ? `: ${mdText(state.pendingApproval.data.why, 300)}` : "";
    const quorum = state.approvals;
    if (quorum && quorum.required > 1) {
      const more = quorum.required - quorum.count;
      const so = quorum.counted.length
        ? `, approved by ${quorum.counted.map((c) => mdText(c, 80)).join(", ")}`
        : "";
      return `**Waiting for** ${more} more approval${more === 1 ? "" : "s"} (${quorumText(quorum)}${so})${who}${until}${why}.`;
    }
    return `**Waiting for** an approval${who}${until}${why}.`;
  }
  if (state.pendingQuestion)
    return `**Waiting for** an answer: ${mdText(state.pendingQuestion.data.question, 300)}`;
  return state.waitingOn ? `**Waiting for** ${mdText(state.waitingOn, 200)}.` : null;
}

function rollbackLines(thread: Thread, components: string[]): string[] {
  const entries = lastOf(thread.events, "deployed_versions")?.data.entries ?? [];
  return entries.flatMap((e) =>
    components.includes(e.component) && e.sha
      ? [`${mdText(e.component, 60)} in ${mdText(e.environment, 60)}: \`${short(e.sha)}\``]
      : [],
  );
}

/** The components a thread started in words has acted on (it changed none itself). */
function requestedComponents(thread: Thread): string[] {
  const steps = [
    ...eventsOf(thread.events, "deploy_authorized").map((e) => e.data.step),
    ...eventsOf(thread.events, "approval_requested").map((e) => e.data.step),
  ];
  return [...new Set(steps.flatMap((step) => deployActionOf(step)?.component ?? []))];
}

export function renderPrComment(
  thread: Thread,
  config: RepoConfig,
  state: ThreadState = deriveState(thread.events),
): string {
  const merged = lastOf(thread.events, "pr_merged");
  const found = lastOf(thread.events, "pr_found");
  const request = lastOf(thread.events, "chat_request");
  const components = merged ? changedComponents(thread.events) : requestedComponents(thread);
  const environments = config.environments.map((e) => e.name);
  const title = merged
    ? `### deploybot: deploying #${merged.data.number} \`${short(merged.data.merge_sha)}\``
    : found && request
      ? `### deploybot: \`${short(found.data.sha)}\` of #${found.data.number}, asked for: ${mdText(request.data.text, 120)}`
      : "### deploybot";
  const lines = [prCommentMarker(thread.id), title, ""];
  if (components.length > 0) {
    lines.push(
      `| component | ${environments.map((e) => mdText(e, 40)).join(" | ")} |`,
      `| --- | ${environments.map(() => "---").join(" | ")} |`,
      ...components.map(
        (c) => `| **${mdText(c, 40)}** | ${environments.map((e) => cell(thread, state, c, e)).join(" | ")} |`,
      ),
      "",
    );
  }
  const broken = breakGlassLines(thread);
  if (broken.length) lines.push(...broken, "");
  const waiting = waitingLine(state, config);
  if (waiting) lines.push(waiting, "");
  const approved = approvals(thread);
  if (approved.length) lines.push(...approved.map((a) => `- ${a}`), "");
  const rollback = rollbackLines(thread, components);
  if (rollback.length)
    lines.push(`**Running before this deploy** (where a rollback goes): ${rollback.join("; ")}`, "");
  const decision = lastOf(thread.events, "decision")?.data;
  if (decision) {
    const reason = "reason" in decision.step ? decision.step.reason : decision.step.message;
    lines.push(`**Last decision** (${decision.decider}): ${mdText(reason, 300)}`, "");
  }
  const terminal = state.terminal;
  if (terminal?.type === "done") lines.push(`**Done:** ${mdText(terminal.data.message, 500)}`);
  else if (terminal?.type === "failed") lines.push(`**Failed:** ${mdText(terminal.data.reason, 500)}`);
  else if (terminal?.type === "cancelled")
    lines.push(
      `**Cancelled** by ${mdText(terminal.data.by, 60)}${terminal.data.reason ? `: ${mdText(terminal.data.reason, 300)}` : ""}`,
    );
  return lines.join("\n").trim() + "\n";
}

export interface PrCommentSync {
  number: number;
  body: string;
  digest: string;
  /** The comment to update; null when none is known yet. */
  commentId: number | null;
}

/** What the PR comment still needs: nothing, or this body (a merge thread that did something). */
export function nextPrCommentSync(
  thread: Thread,
  config: RepoConfig,
  state?: ThreadState,
): PrCommentSync | null {
  // A merge's own PR, or the PR of the commit a thread started elsewhere deploys.
  const number =
    lastOf(thread.events, "pr_merged")?.data.number ?? lastOf(thread.events, "pr_found")?.data.number;
  if (number === undefined) return null;
  const eventful = thread.events.some((e) =>
    ["deploy_authorized", "approval_requested", "human_needed", "failed"].includes(e.type),
  );
  if (!eventful) return null;
  const synced = lastOf(thread.events, "pr_comment_synced");
  if (synced?.data.error) return null; // GitHub refused for good (no permission, no such PR)
  const body = renderPrComment(thread, config, state);
  const digest = bodyDigest(body);
  if (synced?.data.digest === digest) return null;
  return { number, body, digest, commentId: synced?.data.comment_id ?? null };
}
