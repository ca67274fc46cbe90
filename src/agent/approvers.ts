import { environmentIndex, slackUserOfLogin, type RepoConfig } from "../config/repo-config.js";

/**
 * The self-approval rule's blind spot in Slack: the PR's author is known by a GitHub login, and
 * only the `users:` mapping links it to a Slack id. (Who may decide is judged in
 * pipeline/approvals.ts, for every channel.)
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
