import { slackUserOfLogin, type RepoConfig } from "../config/repo-config.js";
import type { DecisionChannel } from "./events.js";

/**
 * One identity per person across channels: a Slack user id; `github:<login>` for a GitHub login
 * that `users:` does not map to a Slack user (a mapped one is that Slack user); `api:<name>` for a
 * REST API token, through the API or the dashboard.
 */

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** The person who answered or asked, by the channel they used. */
export function personOf(config: RepoConfig, who: { by: string; channel: DecisionChannel }): string {
  switch (who.channel) {
    case "slack":
      return who.by;
    case "github":
      return slackUserOfLogin(config, who.by) ?? `github:${who.by.toLowerCase()}`;
    case "api":
    case "dashboard":
      return `api:${who.by}`;
  }
}

/**
 * The person a config entry names: `api:<name>` a token, `U…`/`W…` a Slack user, anything else a
 * GitHub login.
 */
export function personOfEntry(config: RepoConfig, entry: string): string {
  if (entry.startsWith("api:") || SLACK_USER.test(entry)) return entry;
  return personOf(config, { by: entry, channel: "github" });
}
