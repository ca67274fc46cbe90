import { type Octokit } from "../github/repository.js";
import type { Log } from "../log.js";
import type { ApprovalCardInput, ApprovalOutcome as CardOutcome } from "../slack/approval-card.js";
import { deciderLabel, lastOf, type EventOf, type Thread } from "../thread/events.js";
import { deployActionOf } from "../thread/next-step.js";
import { threadEndedReason } from "../thread/status.js";
import { repoRefOf, short } from "../thread/text.js";
import type { ThreadView } from "../thread/view.js";
import { uncheckedAuthor } from "./approvers.js";
import type { ApprovalOutcome } from "./notifications.js";

/** What an approval card needs beyond the thread: GitHub, to list the commits a deploy brings. */
export interface ApprovalCardDeps {
  octokitFor(installationId: number): Promise<Octokit>;
  githubUrl: string;
  log: Log;
}

/** Everything an approver should see, from the thread's events (and GitHub's compare, for commits). */
export async function approvalCardInput(
  deps: ApprovalCardDeps,
  { thread, state, config }: ThreadView,
  request: EventOf<"approval_requested">,
  options: { withChanges: boolean } = { withChanges: true },
): Promise<ApprovalCardInput> {
  const action = deployActionOf(request.data.step)!;
  const merged = lastOf(thread.events, "pr_merged");
  const ci = lastOf(thread.events, "ci_state");
  const decision = lastOf(thread.events, "decision");
  const deployedThere = lastOf(thread.events, "deployed_versions")?.data.entries.find(
    (e) => e.component === action.component && e.environment === action.environment,
  );
  const thisThread = state.successes
    .filter((s) => s.component === action.component && s.environment === action.environment)
    .at(-1);
  const currentSha = thisThread?.sha ?? deployedThere?.sha ?? null;
  let changes: ApprovalCardInput["changes"] = null;
  if (options.withChanges && currentSha && currentSha !== action.sha) {
    changes = await commitsBetween(deps, thread, currentSha, action.sha);
  }
  return {
    approvalId: request.data.approval_id,
    repo: thread.repo,
    kind: action.kind,
    component: action.component,
    environment: action.environment,
    sha: action.sha,
    serverUrl: deps.githubUrl,
    pr: merged
      ? {
          number: merged.data.number,
          title: merged.data.title,
          url: merged.data.html_url,
          author: merged.data.author,
        }
      : null,
    changes,
    currentSha,
    ci: ci && ci.data.sha === action.sha ? { state: ci.data.state, summary: ci.data.summary } : null,
    reason: action.reason,
    decider: decision
      ? decision.data.decider === "rules"
        ? "rules"
        : `${decision.data.decider} (${decision.data.model})`
      : "rules",
    expiresAt: request.data.expires_at,
    quorum: state.approvals?.approvalId === request.data.approval_id ? state.approvals : null,
    uncheckedAuthor: config ? uncheckedAuthor(config, action.environment, merged?.data.author ?? null) : null,
    why: request.data.why ?? null,
  };
}

async function commitsBetween(
  deps: ApprovalCardDeps,
  thread: Thread,
  base: string,
  head: string,
): Promise<ApprovalCardInput["changes"]> {
  const ref = repoRefOf(thread.repo);
  try {
    const octokit = await deps.octokitFor(thread.installationId);
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      ...ref,
      basehead: `${base}...${head}`,
      per_page: 20,
    });
    return {
      commits: data.commits.map((c) => ({ sha: c.sha, message: c.commit.message })).reverse(),
      total: data.total_commits,
    };
  } catch (error) {
    deps.log.warn(
      { thread: thread.id },
      `could not list commits ${short(base)}...${short(head)}: ${String(error)}`,
    );
    return null;
  }
}

/** How an approval ended, as its card shows it. */
export function cardOutcome(event: ApprovalOutcome): CardOutcome {
  switch (event.type) {
    case "approval_granted":
      return { kind: "approved", slackUser: deciderLabel(event.data), at: event.at };
    case "approval_rejected":
      return {
        kind: "rejected",
        slackUser: deciderLabel(event.data),
        at: event.at,
        reason: event.data.reason,
      };
    case "approval_expired":
      return { kind: "expired", slackUser: null, at: event.at };
    default:
      return { kind: "closed", slackUser: null, at: event.at, reason: threadEndedReason(event) };
  }
}
