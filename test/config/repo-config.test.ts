import { describe, expect, it } from "vitest";
import { parseRepoConfig, RepoConfigError } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

function problemsOf(text: string): string[] {
  try {
    parseRepoConfig(text);
  } catch (error) {
    if (error instanceof RepoConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be invalid");
}

describe("the repository config", () => {
  it("reads the example of the design, with defaults filled in", () => {
    const config = parseRepoConfig(CONFIG_YAML);
    expect(Object.keys(config.components)).toEqual(["backend", "frontend"]);
    expect(config.environments.map((e) => [e.name, e.approval])).toEqual([
      ["staging", "not_required"],
      ["production", "required"],
    ]);
    expect(config.environments[1]?.approval_expires_after).toBe(24 * 3_600_000);
    expect(config.environments[0]?.deploy_timeout).toBe(30 * 60_000);
    expect(config.users).toEqual({ octocat: "U01OCTOCAT" });
  });

  it("accepts never as an approval expiry", () => {
    const config = parseRepoConfig(
      CONFIG_YAML.replace("approval_expires_after: 24h", "approval_expires_after: never"),
    );
    expect(config.environments[1]?.approval_expires_after).toBeNull();
  });

  it("names the file and the field of each problem", () => {
    const text = CONFIG_YAML.replace("workflow: deploy-frontend.yml", "workflow: 42").replace(
      "approval_expires_after: 24h",
      "approval_expires_after: tomorrow",
    );
    let error: unknown;
    try {
      parseRepoConfig(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RepoConfigError);
    expect((error as Error).message).toContain(".github/deploybot.yml is invalid");
    expect(problemsOf(text).join("\n")).toMatch(
      /components\.frontend\.workflow: .*\n.*environments\[1\]\.approval_expires_after/,
    );
  });

  it("explains a bad duration and a bad component name", () => {
    const text = CONFIG_YAML.replace("approval_expires_after: 24h", "approval_expires_after: soon").replace(
      "  frontend:",
      "  Front End:",
    );
    expect(problemsOf(text)).toEqual([
      "environments[1].approval_expires_after: expected a duration such as 30m, 24h, 7d, or never",
      "components.Front End: component name use lowercase letters, digits, '-' or '_', starting with a letter",
    ]);
  });

  it("rejects an unknown key instead of ignoring a typo", () => {
    expect(problemsOf(CONFIG_YAML.replace("branch: main", "branch: main\nbranches: [main]"))[0]).toContain(
      "branches",
    );
  });

  it("requires approvers where approval is required", () => {
    expect(problemsOf(CONFIG_YAML.replace("    approvers: [U01APPROVER, S01RELEASETEAM]\n", ""))).toEqual([
      "environments[1].approvers: approval: required needs at least one approver (a Slack user or user-group id or api:<token name> in approvers, or a GitHub login or org/team in github_approvers)",
    ]);
  });

  it("rejects duplicate environments", () => {
    const text = CONFIG_YAML.replace("  - name: production", "  - name: staging");
    expect(problemsOf(text)).toContain('environments[1].name: duplicate environment "staging"');
  });

  it("rejects two spellings of one GitHub login in users:, since logins ignore case", () => {
    const text = CONFIG_YAML.replace("  octocat: U01OCTOCAT", "  octocat: U01OCTOCAT\n  OctoCat: U02OTHER");
    expect(problemsOf(text)).toEqual([
      'users.OctoCat: "OctoCat" and "octocat" are the same GitHub login (logins ignore case): keep one',
    ]);
  });

  it("reports YAML syntax errors as such", () => {
    expect(problemsOf("components: [unclosed")[0]).toMatch(/^not valid YAML/);
  });

  it("reports an empty file as missing its components and environments", () => {
    const problems = problemsOf("");
    expect(problems.some((p) => p.startsWith("components:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("environments:"))).toBe(true);
  });
});
