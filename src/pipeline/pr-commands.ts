import { createHash } from "node:crypto";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { COMMAND_USAGE, parsePrCommand, requestText, type PrCommand } from "../github/comment-command.js";
import { COMMANDING, permissionOf } from "../github/permissions.js";
import { findByMarker } from "../github/pr-comments.js";
import { type Octokit } from "../github/repository.js";
import type { IssueCommentCreated } from "../github/webhooks.js";
import { NO_BLIND_RETRY } from "../github/deployments.js";
import type { Thread } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import { controlThread } from "./api-inbox.js";
import { lockFromComment } from "./lock-commands.js";
import { decideApproval } from "./approvals.js";
import { threadIdForMerge } from "./ingest.js";
import { prThreadRef } from "./pr-threads.js";
import { startRequestThread } from "./requests.js";
import { clip, type RepoRef, repoRefOf } from "../thread/text.js";

/**
 * `/deploybot` commands in pull request comments. Only people with write permission on the
 * repository may command (GitHub's permission API, asked every time); deploybot acknowledges the
 * comment with a reaction, acts through the same paths as Slack and the REST API (the approver
 * policy, the decider and the policy), and answers in a reply that says what happened or why not.
 */

function replyMarker(commentId: number): string {
  return `<!-- deploybot:reply=${commentId} -->`;
}

/** The threads of a pull request: its merge's, and any started about it; the newest unfinished first. */
async function threadOfPullRequest(
  deps: LoopDeps,
  octokit: Octokit,
  ref: RepoRef,
  repo: string,
  number: number,
): Promise<Thread | null> {
  const { data: pr } = await octokit.rest.pulls.get({ ...ref, pull_number: number });
  const ids = [
    ...(pr.merged && pr.merge_commit_sha ? [threadIdForMerge(repo, number, pr.merge_commit_sha)] : []),
    ...[await deps.store.getRef(prThreadRef(repo, number))].filter((id): id is string => id !== null),
  ];
  const threads: Thread[] = [];
  for (const id of new Set(ids)) {
    const thread = await deps.store.getThread(id);
    if (thread) threads.push(thread);
  }
  threads.sort((a, b) => {
    const unfinished = (t: Thread) => (deriveState(t.events).terminal ? 0 : 1);
    return unfinished(b) - unfinished(a) || b.createdAt.localeCompare(a.createdAt);
  });
  return threads[0] ?? null;
}

function statusText(thread: Thread): string {
  const state = deriveState(thread.events);
  const waiting = state.waitingOn ? `, waiting for ${state.waitingOn}` : "";
  return `Thread \`${thread.id}\` is **${state.status.replace(/_/g, " ")}**${waiting}.`;
}

/** Does what the command says; returns the reply's text. */
async function act(
  deps: LoopDeps,
  payload: IssueCommentCreated,
  octokit: Octokit,
  command: PrCommand,
  login: string,
): Promise<string> {
  const repo = payload.repository.full_name;
  const ref = repoRefOf(repo);
  const number = payload.issue.number;
  switch (command.kind) {
    case "help":
      return `Commands: ${COMMAND_USAGE}.`;
    case "invalid":
      return `I did not understand that: ${command.problem}. Commands: ${COMMAND_USAGE}.`;
    case "rollback":
    case "deploy":
    case "words": {
      const threadId = `th_${createHash("sha256").update(`pr_comment:${repo}:${payload.comment.id}`).digest("hex").slice(0, 20)}`;
      await deps.own?.(threadId);
      if (!(await deps.store.getThreadSummary(threadId))) {
        const started = await startRequestThread(deps, {
          threadId,
          repo,
          installationId: payload.installation.id,
          text: requestText(command),
          origin: { source: "pr_comment", slackUser: null, channel: null, ts: null, requestedBy: login },
          ...("breakGlass" in command && command.breakGlass
            ? {
                breakGlass: {
                  by: login,
                  channel: "github" as const,
                  reason: command.breakGlass,
                  environment: command.environment,
                },
              }
            : {}),
        });
        if (!started.ok) return `Nothing started: ${started.problem}`;
      } else await advanceThread(deps, threadId);
      await deps.store.setRef(prThreadRef(repo, number), threadId, deps.clock());
      const thread = await deps.store.getThread(threadId);
      return `Started thread \`${threadId}\` for "${clip(requestText(command), 200)}". ${thread ? statusText(thread) : ""}`.trim();
    }
    case "lock":
    case "unlock":
      return (await lockFromComment(deps, octokit, { repo, command, login, canWrite: true })).text;
    default:
      break;
  }
  const thread = await threadOfPullRequest(deps, octokit, ref, repo, number);
  if (!thread) {
    return `No deploy of this pull request is known yet: it starts when the pull request is merged into the deploy branch, or ask for one with \`/deploybot deploy <component> to <environment>\`.`;
  }
  await deps.own?.(thread.id);
  switch (command.kind) {
    case "status":
      return statusText(thread);
    case "approve":
    case "reject": {
      let refusal: string | null = null;
      const note = await decideApproval(deps, {
        approvalId: null,
        threadId: thread.id,
        decider: { channel: "github", login },
        decision: command.kind,
        ...(command.kind === "reject" ? { reason: command.reason } : {}),
        tell: async (text) => {
          refusal = text;
        },
      });
      if (refusal !== null) return `Refused: ${refusal}`;
      if (note.startsWith("skipped") || note.startsWith("refused")) return `Refused: ${note}`;
      const after = await deps.store.getThread(thread.id);
      return `${command.kind === "approve" ? "Approved" : "Rejected"}. ${after ? statusText(after) : ""}`.trim();
    }
    case "pause":
    case "resume":
    case "cancel": {
      const note = await controlThread(deps, {
        threadId: thread.id,
        action: command.kind,
        by: `github:${login}`,
        reason: "reason" in command ? command.reason : null,
      });
      if (note.startsWith("skipped")) return `Nothing changed: ${note.replace(/^skipped: /, "")}.`;
      const after = await deps.store.getThread(thread.id);
      return `${command.kind === "pause" ? "Paused" : command.kind === "resume" ? "Resumed" : "Cancelled"}. ${after ? statusText(after) : ""}`.trim();
    }
  }
}

/** Posts the reply once: after a doubt (an intent without its result) it looks for its marker first. */
async function reply(
  deps: LoopDeps,
  octokit: Octokit,
  payload: IssueCommentCreated,
  login: string,
  text: string,
): Promise<void> {
  const key = `pr_reply:${payload.repository.full_name.toLowerCase()}:${payload.comment.id}`;
  const state = await deps.store.getRef(key);
  if (state === "posted") return;
  const ref = repoRefOf(payload.repository.full_name);
  const marker = replyMarker(payload.comment.id);
  if (state === "posting" && (await findByMarker(octokit, ref, payload.issue.number, marker)) !== null) {
    await deps.store.setRef(key, "posted", deps.clock());
    return;
  }
  await deps.store.setRef(key, "posting", deps.clock());
  await octokit.rest.issues.createComment({
    ...ref,
    issue_number: payload.issue.number,
    body: `${marker}\n@${login} ${text}`,
    request: NO_BLIND_RETRY,
  });
  await deps.store.setRef(key, "posted", deps.clock());
}

export async function handlePrComment(deps: LoopDeps, payload: IssueCommentCreated): Promise<string> {
  const user = payload.comment.user;
  if (!payload.issue.pull_request) return "skipped: a comment on an issue, not a pull request";
  if (!user || user.type === "Bot" || user.login.endsWith("[bot]")) return "skipped: a comment by a bot";
  const command = parsePrCommand(payload.comment.body);
  if (!command) return "skipped: no /deploybot command";
  const repo = payload.repository.full_name;
  const ref = repoRefOf(repo);
  const octokit = await deps.octokitFor(payload.installation.id);
  const doneKey = `pr_command:${repo.toLowerCase()}:${payload.comment.id}`;
  // A retry after the command was carried out only answers: the command runs once.
  let answer = await deps.store.getRef(doneKey);
  if (answer === null) {
    const permission = await permissionOf(octokit, ref, user.login);
    if (command.kind === "lock" || command.kind === "unlock") {
      // A lock is the repository's, not the thread's: any PR comment may set it, approvers too.
      const canWrite = COMMANDING.has(permission);
      const outcome = await lockFromComment(deps, octokit, { repo, command, login: user.login, canWrite });
      const content = outcome.text.startsWith("Refused") ? "-1" : "eyes";
      await octokit.rest.reactions.createForIssueComment({ ...ref, comment_id: payload.comment.id, content });
      answer = outcome.text;
      deps.log.info({ repo, user: user.login }, `PR comment command ${command.kind}: ${clip(answer, 200)}`);
    } else if (!COMMANDING.has(permission)) {
      await octokit.rest.reactions.createForIssueComment({
        ...ref,
        comment_id: payload.comment.id,
        content: "-1",
      });
      answer = `Refused: commanding deploybot needs write permission on ${repo}; you have ${permission === "none" ? "none" : `\`${permission}\``}.`;
      deps.log.info({ repo, user: user.login }, `refused a PR comment command: permission ${permission}`);
    } else {
      await octokit.rest.reactions.createForIssueComment({
        ...ref,
        comment_id: payload.comment.id,
        content: "eyes",
      });
      answer = await act(deps, payload, octokit, command, user.login);
      deps.log.info({ repo, user: user.login }, `PR comment command ${command.kind}: ${clip(answer, 200)}`);
    }
    await deps.store.setRef(doneKey, clip(answer, 4_000), deps.clock());
  }
  await reply(deps, octokit, payload, user.login, answer);
  return `${command.kind} from ${user.login}: ${clip(answer, 200)}`;
}
