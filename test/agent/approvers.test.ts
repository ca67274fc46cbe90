import { describe, expect, it } from "vitest";
import { mayDecide } from "../../src/agent/approvers.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const config = parseRepoConfig(
  CONFIG_YAML.replace("[U01APPROVER, S01RELEASETEAM]", "[U01APPROVER, U01OCTOCAT, S01RELEASETEAM]"),
);
const groups = new Map([["S01RELEASETEAM", ["U02RELEASER"]]]);
const decide = (slackUser: string, decision: "approve" | "reject" = "approve", environment = "production") =>
  mayDecide({ config, environment, slackUser, decision, groupMembers: groups, prAuthor: "octocat" });

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
