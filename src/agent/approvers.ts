import { environmentIndex, slackUserOfLogin, type RepoConfig } from "../config/repo-config.js";

/**
 * Who may decide an approval: policy in code, per environment. The approvers are Slack user ids
 * and user-group ids (resolved by the caller); the PR's author (found through the `users:` mapping,
 * whatever the case of the login) may not approve their own deploy to the last (production)
 * environment, and may always reject it.
 */

export type ApproverVerdict = { ok: true } | { ok: false; reason: string };

export function userGroupsOf(config: RepoConfig, environment: string): string[] {
  const env = config.environments[environmentIndex(config, environment)];
  return (env?.approvers ?? []).filter((id) => id.startsWith("S"));
}

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

export function mayDecide(input: {
  config: RepoConfig;
  environment: string;
  slackUser: string;
  decision: "approve" | "reject";
  /** Members of the environment's approver user groups, by group id. */
  groupMembers: ReadonlyMap<string, readonly string[]>;
  /** The GitHub login of the PR's author, when the thread started from a merge. */
  prAuthor: string | null;
}): ApproverVerdict {
  const { config, environment, slackUser } = input;
  const index = environmentIndex(config, environment);
  const env = config.environments[index];
  if (!env) return { ok: false, reason: `${environment} is not an environment of this repository` };
  const authorSlackUser = input.prAuthor ? slackUserOfLogin(config, input.prAuthor) : null;
  const isAuthor = authorSlackUser !== null && authorSlackUser === slackUser;

  if (input.decision === "reject" && isAuthor) return { ok: true };
  const listed =
    env.approvers.includes(slackUser) ||
    env.approvers.some((id) => id.startsWith("S") && (input.groupMembers.get(id) ?? []).includes(slackUser));
  if (!listed) {
    return {
      ok: false,
      reason: `only the approvers of ${environment} may ${input.decision} this (${env.approvers.map((id) => (id.startsWith("S") ? `<!subteam^${id}>` : `<@${id}>`)).join(", ")})`,
    };
  }
  if (input.decision === "approve" && isAuthor && index === config.environments.length - 1) {
    return {
      ok: false,
      reason: `you authored this pull request: someone else must approve its ${environment} deploy`,
    };
  }
  return { ok: true };
}
