import type { LoopDeps } from "../agent/loop-deps.js";
import type { Decider, Memberships } from "../agent/approvers.js";
import type { RepoConfig } from "../config/repo-config.js";
import type { Octokit } from "../github/repository.js";
import type { Thread } from "../thread/events.js";

/** The Slack user groups and GitHub teams an approver policy names, resolved for one decider. */

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

export async function membershipsOf(
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
