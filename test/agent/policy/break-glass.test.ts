import { describe, expect, it } from "vitest";
import { breakGlassVerdict, type BreakGlass } from "../../../src/agent/policy/break-glass.js";
import { parseRepoConfig } from "../../../src/config/repo-config.js";
import { CONFIG_YAML } from "../../helpers/github-mocks.js";

const config = parseRepoConfig(CONFIG_YAML); // users: octocat -> U01OCTOCAT
const production = { name: "production", break_glass: ["octocat", "U0ONCALL", "api:oncall"] };

function verdict(declared: Partial<BreakGlass>) {
  return breakGlassVerdict(config, production, {
    by: "octocat",
    channel: "github",
    reason: "checkout is down",
    ...declared,
  });
}

describe("break-glass", () => {
  it("is allowed to a listed GitHub login, whatever the case", () => {
    expect(verdict({ by: "OctoCat" })).toEqual({ ok: true });
  });

  it("is allowed to a listed login acting in Slack through the users: map", () => {
    expect(verdict({ by: "U01OCTOCAT", channel: "slack" })).toEqual({ ok: true });
  });

  it("is allowed to a listed Slack user and a listed API token on the dashboard", () => {
    expect(verdict({ by: "U0ONCALL", channel: "slack" })).toEqual({ ok: true });
    expect(verdict({ by: "oncall", channel: "dashboard" })).toEqual({ ok: true });
  });

  it("is refused to someone not listed, naming who is", () => {
    expect(verdict({ by: "hubot" })).toEqual({
      ok: false,
      reason: "hubot may not break glass in production (break_glass: octocat, U0ONCALL, api:oncall)",
    });
    expect(verdict({ by: "release", channel: "api" }).ok).toBe(false);
  });

  it("does not take a GitHub login that looks like a listed Slack id for that Slack user", () => {
    expect(verdict({ by: "U0ONCALL", channel: "github" }).ok).toBe(false);
  });

  it("is refused without a reason", () => {
    const refused = verdict({ reason: "  " });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toContain("break-glass needs a reason");
  });
});
