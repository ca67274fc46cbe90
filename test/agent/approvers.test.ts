import { describe, expect, it } from "vitest";
import { approverVerdict, uncheckedAuthor } from "../../src/agent/approvers.js";
import { parseRepoConfig, slackUserOfLogin } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const config = parseRepoConfig(
  CONFIG_YAML.replace("[U01APPROVER, S01RELEASETEAM]", "[U01APPROVER, U01OCTOCAT, S01RELEASETEAM]"),
);
const groups = new Map([["S01RELEASETEAM", ["U02RELEASER"]]]);
const decide = (slackUser: string, decision: "approve" | "reject" = "approve", environment = "production") =>
  approverVerdict({
    config,
    environment,
    decider: { channel: "slack", slackUser },
    decision,
    memberships: { slackGroups: groups, githubTeams: new Set() },
    prAuthor: "octocat",
  });

describe("who may decide an approval", () => {
  it("lets a listed approver approve", () => {
    expect(decide("U01APPROVER")).toEqual({ ok: true });
  });

  it("lets a member of a listed user group approve", () => {
    expect(decide("U02RELEASER")).toEqual({ ok: true });
  });

  it("refuses an outsider, naming who may", () => {
    const verdict = decide("U09OUTSIDER");
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain("only the approvers of production may approve");
    expect(!verdict.ok && verdict.reason).toContain("<!subteam^S01RELEASETEAM>");
  });

  it("refuses the PR's author approving their own production deploy, even when listed", () => {
    const verdict = decide("U01OCTOCAT");
    expect(!verdict.ok && verdict.reason).toContain("you authored this pull request");
  });

  it("lets the PR's author reject their own deploy", () => {
    expect(decide("U01OCTOCAT", "reject")).toEqual({ ok: true });
  });

  it("refuses an outsider's rejection too", () => {
    expect(decide("U09OUTSIDER", "reject").ok).toBe(false);
  });
});

describe("GitHub logins in the approver policy", () => {
  const mapped = (users: string) =>
    parseRepoConfig(
      CONFIG_YAML.replace(
        "[U01APPROVER, S01RELEASETEAM]",
        "[U01APPROVER, U01OCTOCAT, S01RELEASETEAM]",
      ).replace("users:\n  octocat: U01OCTOCAT", `users:\n  ${users}`),
    );

  it("refuses the author whose webhook login differs in case from the users: mapping", () => {
    const verdict = approverVerdict({
      config: mapped("codertocat: U01OCTOCAT"),
      environment: "production",
      decider: { channel: "slack", slackUser: "U01OCTOCAT" },
      decision: "approve",
      memberships: { slackGroups: groups, githubTeams: new Set() },
      prAuthor: "Codertocat",
    });
    expect(!verdict.ok && verdict.reason).toContain("you authored this pull request");
  });

  it("refuses the author whose mapping is spelled in capitals and the webhook in lower case", () => {
    const verdict = approverVerdict({
      config: mapped("OctoCat: U01OCTOCAT"),
      environment: "production",
      decider: { channel: "slack", slackUser: "U01OCTOCAT" },
      decision: "approve",
      memberships: { slackGroups: groups, githubTeams: new Set() },
      prAuthor: "octocat",
    });
    expect(verdict.ok).toBe(false);
  });

  it("names the author whose self-approval cannot be checked for the last environment only", () => {
    const config = mapped("someone-else: U01OCTOCAT");
    expect(uncheckedAuthor(config, "production", "Codertocat")).toBe("Codertocat");
    expect(uncheckedAuthor(config, "staging", "Codertocat")).toBeNull();
    expect(uncheckedAuthor(config, "production", null)).toBeNull();
    expect(uncheckedAuthor(mapped("codertocat: U01OCTOCAT"), "production", "CODERTOCAT")).toBeNull();
  });

  it("finds a login's Slack id whatever the case", () => {
    const config = mapped("Codertocat: U01OCTOCAT");
    expect(slackUserOfLogin(config, "codertocat")).toBe("U01OCTOCAT");
    expect(slackUserOfLogin(config, "CoderToCat")).toBe("U01OCTOCAT");
    expect(slackUserOfLogin(config, "octocat")).toBeNull();
  });
});
