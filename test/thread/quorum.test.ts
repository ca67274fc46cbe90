import { describe, expect, it } from "vitest";
import {
  quorumText,
  requestExpiresAt,
  tallyApprovals,
  type ApprovalAnswer,
} from "../../src/thread/quorum.js";
import { parseRepoConfig } from "../../src/config/repo-config.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";

const config = parseRepoConfig(CONFIG_YAML); // users: octocat -> U01OCTOCAT
const REQUESTED = new Date("2026-02-04T09:00:00Z");
const minutesLater = (minutes: number) => new Date(REQUESTED.getTime() + minutes * 60_000);

function approve(by: string, channel: ApprovalAnswer["channel"], minutes = 1): ApprovalAnswer {
  return { decision: "approve", by, channel, at: minutesLater(minutes) };
}

function tally(answers: ApprovalAnswer[], options: { required?: number; prAuthor?: string | null } = {}) {
  return tallyApprovals({
    config,
    required: options.required ?? 2,
    answers,
    prAuthor: options.prAuthor ?? "hubot",
    expiresAt: requestExpiresAt(REQUESTED, 24 * 3_600_000),
    now: minutesLater(10),
  });
}

describe("a quorum", () => {
  it("is reached by two distinct approvers", () => {
    const quorum = tally([approve("U01APPROVER", "slack"), approve("U02OTHER", "slack", 2)]);
    expect(quorum).toMatchObject({
      count: 2,
      required: 2,
      satisfied: true,
      counted: ["U01APPROVER", "U02OTHER"],
    });
    expect(quorumText(quorum)).toBe("2 of 2 approvals");
  });

  it("counts a person who approves twice once", () => {
    const quorum = tally([approve("U01APPROVER", "slack"), approve("U01APPROVER", "slack", 2)]);
    expect(quorum).toMatchObject({ count: 1, satisfied: false });
    expect(quorumText(quorum)).toBe("1 of 2 approvals");
  });

  it("counts a person once across Slack and GitHub through the users: map", () => {
    const quorum = tally([approve("U01OCTOCAT", "slack"), approve("OctoCat", "github", 2)]);
    expect(quorum).toMatchObject({ count: 1, satisfied: false, counted: ["U01OCTOCAT"] });
  });

  it("counts an unmapped GitHub login and a Slack user as two people", () => {
    const quorum = tally([approve("U01APPROVER", "slack"), approve("hubot-two", "github", 2)]);
    expect(quorum).toMatchObject({
      count: 2,
      satisfied: true,
      counted: ["U01APPROVER", "hubot-two (GitHub)"],
    });
  });

  it("counts one API token once, through the API or the dashboard", () => {
    const quorum = tally([approve("release", "api"), approve("release", "dashboard", 2)]);
    expect(quorum.count).toBe(1);
  });

  it("never counts the pull request's author, on any channel", () => {
    const inSlack = tally([approve("U01OCTOCAT", "slack"), approve("U01APPROVER", "slack")], {
      prAuthor: "octocat",
    });
    expect(inSlack).toMatchObject({
      count: 1,
      satisfied: false,
      refusedAuthor: true,
      counted: ["U01APPROVER"],
    });
    const onGitHub = tally([approve("Hubot", "github")], { prAuthor: "hubot", required: 1 });
    expect(onGitHub).toMatchObject({ count: 0, satisfied: false, refusedAuthor: true });
  });

  it("is stopped by a rejection from any approver, even after enough approvals", () => {
    const rejection: ApprovalAnswer = {
      decision: "reject",
      by: "U02OTHER",
      channel: "slack",
      at: minutesLater(3),
      reason: "not during the sale",
    };
    const quorum = tally([approve("U01APPROVER", "slack"), approve("U03THIRD", "slack", 2), rejection]);
    expect(quorum.satisfied).toBe(false);
    expect(quorum.rejection).toEqual(rejection);
  });
});

describe("an approval request's expiry", () => {
  it("runs from the request, so later approvals do not extend it", () => {
    const expiresAt = requestExpiresAt(REQUESTED, 60 * 60_000);
    expect(expiresAt).toEqual(minutesLater(60));
    const quorum = tallyApprovals({
      config,
      required: 2,
      answers: [approve("U01APPROVER", "slack", 59), approve("U02OTHER", "slack", 60)],
      prAuthor: null,
      expiresAt,
      now: minutesLater(61),
    });
    expect(quorum).toMatchObject({ count: 1, satisfied: false, expired: true });
  });

  it("has not expired before its time, nor when the request never expires", () => {
    const open = { config, required: 2, answers: [approve("U01APPROVER", "slack")], prAuthor: null };
    expect(tallyApprovals({ ...open, expiresAt: minutesLater(60), now: minutesLater(59) }).expired).toBe(
      false,
    );
    expect(requestExpiresAt(REQUESTED, null)).toBeNull();
    expect(tallyApprovals({ ...open, expiresAt: null, now: minutesLater(100_000) }).expired).toBe(false);
  });
});
