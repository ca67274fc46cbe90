import { environmentIndex, slackUserOfLogin, type RepoConfig } from "../config/repo-config.js";

/**
 * The approver policy, one for every channel (Slack, a `/deploybot` PR comment, the REST API, the
 * dashboard): who may decide an environment's approval, named the way each channel names people,
 * and whether anyone can. Pure: memberships of groups and teams are looked up beforehand
 * (pipeline/approval-memberships.ts).
 */

/**
 * The PR author's login when the self-approval rule applies to this environment (the last one) but
 * cannot be checked, because the `users:` mapping has no Slack id for them; otherwise null.
 */
export function uncheckedAuthor(
  config: RepoConfig,
  environment: string,
  prAuthor: string | null,
): string | null {
  if (!prAuthor) return null;
  if (environmentIndex(config, environment) !== config.environments.length - 1) return null;
  return slackUserOfLogin(config, prAuthor) === null ? prAuthor : null;
}

/**
 * Whether anyone could decide an approval for `environment`: Slack approvers when Slack is on for
 * the repository, GitHub approvers (PR comments), or API tokens listed as `api:<name>`.
 */
export function approverReachable(
  config: RepoConfig,
  environment: string,
  channels: { slack: boolean },
): boolean {
  const env = config.environments[environmentIndex(config, environment)];
  if (!env) return false;
  const slackIds = env.approvers.filter((id) => !id.startsWith("api:"));
  const apiIds = env.approvers.filter((id) => id.startsWith("api:"));
  return (channels.slack && slackIds.length > 0) || env.github_approvers.length > 0 || apiIds.length > 0;
}

/** Why an approval for `environment` would wait forever (no approver can be reached), or null. */
export function unreachableApproval(
  config: RepoConfig,
  environment: string,
  channels: { slack: boolean },
): string | null {
  if (approverReachable(config, environment, channels)) return null;
  const env = config.environments[environmentIndex(config, environment)];
  const slackIds = env?.approvers.filter((id) => !id.startsWith("api:")) ?? [];
  const slackProblem =
    slackIds.length === 0
      ? "no Slack approvers"
      : config.slack
        ? "Slack approvers but SLACK_BOT_TOKEN is not set"
        : "Slack approvers but no slack.channel to ask them in";
  return `${environment} needs an approval, but no approver can be reached (${slackProblem}, no github_approvers, no api:<name> approvers): add github_approvers to ${environment} in .github/deploybot.yml, or set up Slack`;
}

/** Who gives a decision, as their channel names them. */
export type Decider =
  | { channel: "slack"; slackUser: string }
  | { channel: "github"; login: string }
  | { channel: "api" | "dashboard"; client: string };

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
