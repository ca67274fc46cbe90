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
