import { z } from "zod";
import { deployActionOf } from "../thread/next-step.js";
import { append, advanceThread, type LoopDeps } from "../agent/runner.js";
import { environmentIndex, slackUserOfLogin, type RepoConfig } from "../config/repo-config.js";
import type { Octokit } from "../github/repository.js";
import { AppendConflictError } from "../store/store.js";
import { eventsOf, lastOf, newEvent, type Thread } from "../thread/events.js";
import { approvalClosed, configOf, deriveState } from "../thread/state.js";
import { clip } from "../thread/text.js";

/**
 * One approver policy for every channel (Slack, a `/deploybot` PR comment, the REST API, the
 * dashboard): who may decide, judged as of the moment the decision was given; the first valid
 * decision wins and is recorded with who decided and through which channel. The channels differ
 * only in how a person is named and how a refusal is told.
 */

/** Who gives a decision, as their channel names them. */
export type Decider =
  | { channel: "slack"; slackUser: string }
  | { channel: "github"; login: string }
  | { channel: "api" | "dashboard"; client: string };

/**
 * An approve or reject through the REST API or a dashboard button, as queued in the inbox (kind
 * `api.decision`). `received_at` is when deploybot received it: the decision is judged as of then.
 */
export const ApiDecision = z.object({
  thread_id: z.string().min(1),
  decision: z.enum(["approve", "reject"]),
  reason: z.string().max(2_000).nullable(),
  client: z.string().min(1),
  channel: z.enum(["api", "dashboard"]),
  received_at: z.iso.datetime(),
});
export type ApiDecision = z.infer<typeof ApiDecision>;

export const API_DECISION_KIND = "api.decision";

export type ApproverVerdict = { ok: true } | { ok: false; reason: string };

/** What the channel-agnostic verdict needs resolved beforehand (group and team memberships). */
export interface Memberships {
  /** Members of the environment's Slack user groups, by group id. */
  slackGroups: ReadonlyMap<string, readonly string[]>;
  /** The `org/team` slugs of `github_approvers` the deciding GitHub user is an active member of. */
  githubTeams: ReadonlySet<string>;
}

const NO_MEMBERSHIPS: Memberships = { slackGroups: new Map(), githubTeams: new Set() };

function isAuthor(config: RepoConfig, decider: Decider, prAuthor: string | null): boolean {
  if (!prAuthor) return false;
  switch (decider.channel) {
    case "slack": {
      const mapped = slackUserOfLogin(config, prAuthor);
      return mapped !== null && mapped === decider.slackUser;
    }
    case "github":
      return decider.login.toLowerCase() === prAuthor.toLowerCase();
    default:
      return false; // an API token names a client, not a person
  }
}

function isListed(
  env: RepoConfig["environments"][number],
  decider: Decider,
  memberships: Memberships,
): boolean {
  switch (decider.channel) {
    case "slack":
      return (
        env.approvers.includes(decider.slackUser) ||
        env.approvers.some(
          (id) => id.startsWith("S") && (memberships.slackGroups.get(id) ?? []).includes(decider.slackUser),
        )
      );
    case "github": {
      const login = decider.login.toLowerCase();
      return env.github_approvers.some((entry) =>
        entry.includes("/")
          ? memberships.githubTeams.has(entry.toLowerCase())
          : entry.toLowerCase() === login,
      );
    }
    default:
      return env.approvers.includes(`api:${decider.client}`);
  }
}

/** The environment's approvers, named the way the decider's channel shows them. */
export function approverList(env: RepoConfig["environments"][number], channel: Decider["channel"]): string {
  const slack = env.approvers.filter((id) => !id.startsWith("api:"));
  const api = env.approvers.filter((id) => id.startsWith("api:"));
  const named = [
    ...slack.map((id) =>
      channel === "slack" ? (id.startsWith("S") ? `<!subteam^${id}>` : `<@${id}>`) : `${id} (Slack)`,
    ),
    ...env.github_approvers.map((entry) => (channel === "github" ? `@${entry}` : `${entry} (GitHub)`)),
    ...api,
  ];
  return named.length > 0 ? named.join(", ") : "nobody is listed";
}

/**
 * Whether this decider may approve or reject a step to `environment`: listed (directly or through a
 * Slack user group or GitHub team), and never the PR's author approving its deploy to the last
 * (production) environment; the author may always reject. Pure: memberships are resolved before.
 */
export function approverVerdict(input: {
  config: RepoConfig;
  environment: string;
  decider: Decider;
  decision: "approve" | "reject";
  /** The GitHub login of the PR's author, when the thread deploys a pull request. */
  prAuthor: string | null;
  memberships?: Memberships;
}): ApproverVerdict {
  const { config, environment, decider } = input;
  const index = environmentIndex(config, environment);
  const env = config.environments[index];
  if (!env) return { ok: false, reason: `${environment} is not an environment of this repository` };
  const author = isAuthor(config, decider, input.prAuthor);
  if (input.decision === "reject" && author) return { ok: true };
  if (!isListed(env, decider, input.memberships ?? NO_MEMBERSHIPS)) {
    return {
      ok: false,
      reason: `only the approvers of ${environment} may ${input.decision} this (${approverList(env, decider.channel)})`,
    };
  }
  if (input.decision === "approve" && author && index === config.environments.length - 1) {
    return {
      ok: false,
      reason: `you authored this pull request: someone else must approve its ${environment} deploy`,
    };
  }
  return { ok: true };
}

export { approverReachable, unreachableApproval } from "../agent/approvers.js";

/** Whether `login` is an active member of the team `org/slug` (GET /orgs/{org}/teams/{slug}/memberships/{login}). */
export async function isTeamMember(octokit: Octokit, team: string, login: string): Promise<boolean> {
  const [org, slug] = team.split("/") as [string, string];
  try {
    const { data } = await octokit.rest.teams.getMembershipForUserInOrg({
      org,
      team_slug: slug,
      username: login,
    });
    return data.state === "active";
  } catch (error) {
    if (typeof error === "object" && error !== null && "status" in error && error.status === 404)
      return false;
    throw error;
  }
}

async function membershipsOf(
  deps: LoopDeps,
  thread: Thread,
  env: RepoConfig["environments"][number],
  decider: Decider,
): Promise<Memberships> {
  const slackGroups = new Map<string, string[]>();
  const githubTeams = new Set<string>();
  if (decider.channel === "slack") {
    for (const group of env.approvers.filter((id) => id.startsWith("S"))) {
      if (!deps.slack) throw new Error("a Slack decision arrived but SLACK_BOT_TOKEN is not set");
      slackGroups.set(group, await deps.slack.userGroupMembers(group));
    }
  }
  if (decider.channel === "github") {
    const teams = env.github_approvers.filter((entry) => entry.includes("/"));
    if (teams.length > 0) {
      const octokit = await deps.octokitFor(thread.installationId);
      for (const team of teams) {
        if (await isTeamMember(octokit, team, decider.login)) githubTeams.add(team.toLowerCase());
      }
    }
  }
  return { slackGroups, githubTeams };
}

/** The GitHub login of the author of the pull request the thread deploys, when there is one. */
export function prAuthorOf(thread: Thread): string | null {
  return (
    lastOf(thread.events, "pr_merged")?.data.author ?? lastOf(thread.events, "pr_found")?.data.author ?? null
  );
}

export interface DecisionInput {
  /** The approval decided (a Slack card names it); null: the one the thread waits for now. */
  approvalId: string | null;
  /** The thread, when the channel names it (a PR comment, the REST API); else found by the approval. */
  threadId: string | null;
  decider: Decider;
  decision: "approve" | "reject";
  reason?: string;
  /** When deploybot received the decision; the worker's clock when unknown. */
  decidedAt?: Date;
  /** Tells the decider why nothing changed (an ephemeral Slack message, a PR reply). */
  tell: (text: string, thread: Thread | null) => Promise<void>;
}

function notPending(reason: string): string {
  return `This approval is no longer pending: ${reason}. Nothing changed.`;
}

function byOf(decider: Decider): string {
  return decider.channel === "slack"
    ? decider.slackUser
    : decider.channel === "github"
      ? decider.login
      : decider.client;
}

/**
 * An approve or a reject, from any channel, judged as of `decidedAt`: after the approval's expiry,
 * once it was decided, or on a thread that was cancelled, finished or superseded, it is refused
 * (told to the decider) and nothing is recorded; a decider the policy does not allow is refused
 * with the reason. Returns a note for the inbox.
 */
export async function decideApproval(deps: LoopDeps, input: DecisionInput): Promise<string> {
  const decidedAt = input.decidedAt ?? deps.clock();
  const who = byOf(input.decider);
  const threadId =
    input.threadId ?? (input.approvalId ? await deps.store.getRef(`approval:${input.approvalId}`) : null);
  if (threadId) await deps.own?.(threadId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = threadId ? await deps.store.getThread(threadId) : null;
    if (!thread) {
      await input.tell(notPending("deploybot has no such approval"), null);
      return `skipped: approval ${input.approvalId ?? `of thread ${threadId}`} is not pending`;
    }
    const state = deriveState(thread.events);
    const approvalId =
      input.approvalId ??
      state.pendingApproval?.data.approval_id ??
      eventsOf(thread.events, "approval_requested").at(-1)?.data.approval_id ??
      null;
    if (!approvalId) {
      await input.tell("Nothing in this deploy waits for an approval. Nothing changed.", thread);
      return `skipped: thread ${thread.id} has no approval to ${input.decision}`;
    }
    const closed = approvalClosed(thread.events, approvalId, decidedAt, state);
    if (closed) {
      deps.log.info(
        { thread: thread.id, user: who, channel: input.decider.channel },
        `refused ${input.decision} of approval ${approvalId}: ${closed.reason}`,
      );
      await input.tell(notPending(closed.reason), thread);
      // Records an expiry that is due and updates the cards of a closed approval.
      if (closed.kind !== "unknown") await advanceThread(deps, thread.id);
      return `skipped: approval ${approvalId} is not pending: ${closed.reason}`;
    }
    const pending = state.pendingApproval!;
    const config = configOf(thread.events)!;
    const action = deployActionOf(pending.data.step)!;
    const env = config.environments[environmentIndex(config, action.environment)];
    const verdict = approverVerdict({
      config,
      environment: action.environment,
      decider: input.decider,
      decision: input.decision,
      prAuthor: prAuthorOf(thread),
      ...(env ? { memberships: await membershipsOf(deps, thread, env, input.decider) } : {}),
    });
    if (!verdict.ok) {
      deps.log.info(
        { thread: thread.id, user: who, channel: input.decider.channel },
        `refused ${input.decision}: ${verdict.reason}`,
      );
      await input.tell(verdict.reason, thread);
      return `refused: ${verdict.reason}`;
    }
    const decided = {
      approval_id: approvalId,
      by: who,
      channel: input.decider.channel,
      slack_user: input.decider.channel === "slack" ? input.decider.slackUser : null,
    };
    const event =
      input.decision === "approve"
        ? newEvent("approval_granted", decided)
        : newEvent("approval_rejected", {
            ...decided,
            reason: clip(input.reason ?? "", 2_000) || "(no reason given)",
          });
    try {
      await append(deps, thread, [event]);
    } catch (error) {
      if (error instanceof AppendConflictError) continue;
      throw error;
    }
    deps.log.info(
      { thread: thread.id, user: who, channel: input.decider.channel },
      `approval ${approvalId}: ${input.decision}d`,
    );
    await advanceThread(deps, thread.id);
    return `${input.decision}d by ${who} (${input.decider.channel})`;
  }
  throw new Error(`approval ${input.approvalId ?? `of ${threadId}`}: the thread kept changing; retrying`);
}

/** An `api.decision` inbox entry (REST API or dashboard): the same policy as every other channel. */
export async function decideFromApi(deps: LoopDeps, entry: ApiDecision): Promise<string> {
  return decideApproval(deps, {
    approvalId: null,
    threadId: entry.thread_id,
    decider: { channel: entry.channel, client: entry.client },
    decision: entry.decision,
    ...(entry.reason ? { reason: entry.reason } : {}),
    decidedAt: new Date(entry.received_at),
    // The HTTP answer was given when the request was queued; a refusal is in the log and the thread.
    tell: async (text, thread) => {
      deps.log.info({ thread: thread?.id ?? entry.thread_id, client: entry.client }, text);
    },
  });
}
