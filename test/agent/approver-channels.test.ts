import { describe, expect, it } from "vitest";
import { approverReachable, approverVerdict, type Decider } from "../../src/agent/approvers.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const config = parseRepoConfig(
  CONFIG_YAML.replace(
    "    approvers: [U01APPROVER, S01RELEASETEAM]\n",
    "    approvers: [U01APPROVER, S01RELEASETEAM, api:release]\n    github_approvers: [Hubot, octocat, acme/release-team]\n",
  ),
);
const verdict = (decider: Decider, decision: "approve" | "reject" = "approve", teams: string[] = []) =>
  approverVerdict({
    config,
    environment: "production",
    decider,
    decision,
    prAuthor: "OctoCat",
    memberships: { slackGroups: new Map(), githubTeams: new Set(teams) },
  });

describe("one approver policy for every channel", () => {
  it("lets a listed GitHub login approve whatever the case of the login", () => {
    expect(verdict({ channel: "github", login: "hubot" })).toEqual({ ok: true });
  });

  it("lets a member of a listed GitHub team approve", () => {
    expect(verdict({ channel: "github", login: "monalisa" }, "approve", ["acme/release-team"])).toEqual({
      ok: true,
    });
  });

  it("refuses a GitHub user who is neither listed nor in a listed team, naming who may", () => {
    const refused = verdict({ channel: "github", login: "monalisa" });
    expect(!refused.ok && refused.reason).toContain("only the approvers of production may approve");
    expect(!refused.ok && refused.reason).toContain("@acme/release-team");
  });

  it("refuses the PR's author approving in GitHub, even when listed", () => {
    const refused = verdict({ channel: "github", login: "octocat" });
    expect(!refused.ok && refused.reason).toContain("you authored this pull request");
  });

  it("lets the PR's author reject in GitHub", () => {
    expect(verdict({ channel: "github", login: "octocat" }, "reject")).toEqual({ ok: true });
  });

  it("lets an API token listed as api:<name> approve, and refuses another token", () => {
    expect(verdict({ channel: "api", client: "release" })).toEqual({ ok: true });
    expect(verdict({ channel: "dashboard", client: "release" })).toEqual({ ok: true });
    expect(verdict({ channel: "api", client: "ci" }).ok).toBe(false);
  });

  it("does not let a Slack user approve through a GitHub login listed for GitHub", () => {
    expect(verdict({ channel: "slack", slackUser: "U01APPROVER" })).toEqual({ ok: true });
    expect(verdict({ channel: "slack", slackUser: "U09HUBOT" }).ok).toBe(false);
  });
});

describe("whether an approver can be reached", () => {
  const slackOnly = parseRepoConfig(CONFIG_YAML);

  it("counts Slack approvers only when Slack is configured", () => {
    expect(approverReachable(slackOnly, "production", { slack: true })).toBe(true);
    expect(approverReachable(slackOnly, "production", { slack: false })).toBe(false);
  });

  it("counts GitHub and API approvers without Slack", () => {
    expect(approverReachable(config, "production", { slack: false })).toBe(true);
  });
});
