import { describe, expect, it } from "vitest";
import {
  approvalCard,
  decidedCard,
  reminderText,
  type ApprovalCardInput,
} from "../../src/slack/approval-card.js";
import {
  allText,
  CURRENT,
  expectWithinSlackLimits,
  EXPIRES,
  EXPIRES_UNIX,
  SHA,
} from "../helpers/slack-messages.js";

function cardInput(overrides: Partial<ApprovalCardInput> = {}): ApprovalCardInput {
  return {
    approvalId: "apr_01JD8Z6W3K",
    repo: "acme/shop",
    kind: "deploy",
    component: "backend",
    environment: "production",
    sha: SHA,
    serverUrl: "https://github.com",
    pr: {
      number: 42,
      title: "Add checkout retries",
      url: "https://github.com/acme/shop/pull/42",
      author: "octocat",
    },
    changes: {
      commits: [
        { sha: SHA, message: "Retry payment capture on 502\n\nThe provider flakes under load." },
        { sha: "b".repeat(40), message: "Log the retry count" },
      ],
      total: 2,
    },
    currentSha: CURRENT,
    ci: { state: "success", summary: "12 checks passed" },
    reason: "Staging has been green for an hour with this SHA.",
    decider: "openai (gpt-4.1-mini)",
    expiresAt: EXPIRES,
    ...overrides,
  };
}

describe("the approval card", () => {
  it("has exactly two buttons, with the contract's action ids and only the approval id as value", () => {
    const card = approvalCard(cardInput());
    const actions = card.blocks.filter((block) => block.type === "actions");
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      elements: [
        {
          type: "button",
          action_id: "deploybot.approve",
          style: "primary",
          text: { type: "plain_text", text: "Approve" },
          value: "apr_01JD8Z6W3K",
        },
        {
          type: "button",
          action_id: "deploybot.reject",
          style: "danger",
          text: { type: "plain_text", text: "Reject" },
          value: "apr_01JD8Z6W3K",
        },
      ],
    });
    expect(actions[0]?.type === "actions" && actions[0].elements).toHaveLength(2);
  });

  it("asks in its header which component goes to which environment", () => {
    const card = approvalCard(cardInput({ kind: "rollback" }));
    expect(card.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "Approve rollback of backend to production?", emoji: true },
    });
    expect(card.text).toContain("Approve rollback of backend to production?");
  });

  it("links the commit, the pull request, the comparison and the rollback target", () => {
    const text = allText(approvalCard(cardInput()));
    expect(text).toContain(`<https://github.com/acme/shop/commit/${SHA}|\`a1b2c3d\`>`);
    expect(text).toContain("<https://github.com/acme/shop/pull/42|#42 Add checkout retries>");
    expect(text).toContain("by octocat");
    expect(text).toContain(`<https://github.com/acme/shop/compare/${CURRENT}...${SHA}|compare>`);
    expect(text).toContain(`*Rollback target*\n<https://github.com/acme/shop/commit/${CURRENT}|\`0f1e2d3\`>`);
    expect(text).toContain(":white_check_mark: success: 12 checks passed");
    expect(text).toContain(">Staging has been green for an hour with this SHA.");
    expect(text).toContain("openai (gpt-4.1-mini)");
  });

  it("says why approval is needed when a closed window asks for it", () => {
    const why = "production is outside its deploy windows (mon-fri 09:00-17:00 Europe/Berlin)";
    expect(allText(approvalCard(cardInput({ why })))).toContain(`*Approval needed because* ${why}`);
    expect(allText(approvalCard(cardInput()))).not.toContain("Approval needed because");
  });

  it("shows the expiry as a Slack date with the ISO time as fallback", () => {
    const text = allText(approvalCard(cardInput()));
    expect(text).toContain(`<!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|${EXPIRES}>`);
    expect(allText(approvalCard(cardInput({ expiresAt: null })))).toContain("*Expires*\nnever");
  });

  it("says when nothing is deployed there yet", () => {
    const text = allText(approvalCard(cardInput({ currentSha: null })));
    expect(text).toContain("nothing deployed there yet");
    expect(text).not.toContain("/compare/");
  });

  it("shows the first line of up to 10 commits, then how many more", () => {
    const commits = Array.from({ length: 25 }, (_, i) => ({
      sha: i.toString(16).padStart(40, "0"),
      message: `Commit number ${i}\n\nbody that must not show`,
    }));
    const text = allText(approvalCard(cardInput({ changes: { commits, total: 25 } })));
    expect(text).toContain("Commit number 9");
    expect(text).not.toContain("Commit number 10");
    expect(text).not.toContain("body that must not show");
    expect(text).toContain("and 15 more");
    expect(text).toContain("*Changes* (25 commits");
  });

  it("cuts a 10,000-character title, reason and commit messages to Slack's limits", () => {
    const huge = "W".repeat(10_000);
    const input = cardInput({
      pr: { number: 42, title: huge, url: "https://github.com/acme/shop/pull/42", author: huge },
      reason: `${huge}\n${"line\n".repeat(2_000)}`,
      ci: { state: "failure", summary: huge },
      changes: {
        commits: Array.from({ length: 10 }, (_, i) => ({ sha: `${i}`.repeat(40), message: huge })),
        total: 400,
      },
    });
    for (const message of [
      approvalCard(input),
      decidedCard(input, { kind: "rejected", slackUser: "U1", at: EXPIRES, reason: huge }),
    ]) {
      expectWithinSlackLimits(message);
      expect(message.text.length).toBeLessThanOrEqual(400);
    }
    const text = allText(approvalCard(input));
    expect(text).toContain(`… <https://github.com/acme/shop/commit/${"0".repeat(40)}|more>`);
    const shownCommits = text.match(/^• /gm)?.length ?? 0;
    expect(text).toContain(`and ${400 - shownCommits} more`);
  });

  it("escapes <script>, <!channel> and <@U…> in untrusted text", () => {
    const input = cardInput({
      pr: {
        number: 7,
        title: "<script>alert(1)</script>",
        url: "https://github.com/acme/shop/pull/7",
        author: "<!here>",
      },
      reason: "<!channel> ship it & <https://evil.example|click here>",
      changes: { commits: [{ sha: SHA, message: "<@U0ADMIN> please approve" }], total: 1 },
      ci: { state: "success", summary: "<!subteam^S123>" },
    });
    const text = allText(approvalCard(input));
    for (const forbidden of [
      "<script>",
      "<!channel>",
      "<!here>",
      "<@U0ADMIN>",
      "<https://evil",
      "<!subteam",
    ]) {
      expect(text).not.toContain(forbidden);
    }
    expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(text).toContain("&lt;!channel&gt; ship it &amp; &lt;https://evil.example|click here&gt;");
    expect(text).toContain("&lt;@U0ADMIN&gt; please approve");
  });

  it("says when the author's self-approval cannot be checked, escaped and within Slack's limits", () => {
    const card = approvalCard(cardInput({ uncheckedAuthor: "Codertocat" }));
    expect(allText(card)).toContain(
      ":warning: Self-approval cannot be checked: Codertocat authored this pull request but has no Slack id under `users:` in .github/deploybot.yml. Add `Codertocat: U…` there.",
    );
    const actions = card.blocks.findIndex((block) => block.type === "actions");
    expect(card.blocks[actions - 1]?.type).toBe("context");
    expectWithinSlackLimits(approvalCard(cardInput({ uncheckedAuthor: `<!channel>${"x".repeat(5_000)}` })));
    expect(allText(approvalCard(cardInput({ uncheckedAuthor: "<!channel>" })))).not.toContain("<!channel>");
  });

  it("has no such line when the author is mapped", () => {
    expect(allText(approvalCard(cardInput()))).not.toContain("Self-approval");
  });

  it("refuses an approval id too long for a button value", () => {
    expect(() => approvalCard(cardInput({ approvalId: "x".repeat(2001) }))).toThrow(/button value/);
  });
});

describe("a decided approval card", () => {
  it("has no buttons and names who approved it and when", () => {
    const card = decidedCard(cardInput(), { kind: "approved", slackUser: "U01APPROVER", at: EXPIRES });
    expect(card.blocks.some((block) => block.type === "actions")).toBe(false);
    expect(card.blocks.at(-1)).toEqual({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `:white_check_mark: Approved by <@U01APPROVER> at <!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|${EXPIRES}>`,
        },
      ],
    });
    expect(card.text).toContain("Approved: deploy of backend to production");
  });

  it("names who rejected it, with their reason escaped", () => {
    const card = decidedCard(cardInput(), {
      kind: "rejected",
      slackUser: "U01APPROVER",
      at: EXPIRES,
      reason: "tests <!channel> are red",
    });
    expect(allText(card)).toContain(":no_entry: Rejected by <@U01APPROVER>: tests &lt;!channel&gt; are red");
  });

  it("says it expired without a decision", () => {
    const card = decidedCard(cardInput(), { kind: "expired", slackUser: null, at: EXPIRES });
    expect(allText(card)).toContain(
      `Expired at <!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|${EXPIRES}> without a decision`,
    );
  });

  it("says it closed without a decision when its thread ended, and why", () => {
    const card = decidedCard(cardInput(), {
      kind: "closed",
      slackUser: null,
      at: EXPIRES,
      reason: "the thread was cancelled by api:ci: <!here> wrong PR",
    });
    expect(card.blocks.some((block) => block.type === "actions")).toBe(false);
    expect(allText(card)).toContain(
      `:no_entry_sign: Closed without a decision at <!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|${EXPIRES}>: the thread was cancelled by api:ci: &lt;!here&gt; wrong PR`,
    );
    expect(card.text).toContain("Closed: deploy of backend to production");
  });

  it("does not turn a user that is not a Slack id into a mention", () => {
    const card = decidedCard(cardInput(), { kind: "approved", slackUser: "<!channel>", at: EXPIRES });
    expect(allText(card)).toContain("Approved by &lt;!channel&gt;");
  });
});

describe("the reminder", () => {
  it("says when the approval expires", () => {
    const text = reminderText(cardInput(), EXPIRES);
    expect(text).toContain(
      `Reminder: this approval expires <!date^${EXPIRES_UNIX}^{date_short_pretty} {time}|${EXPIRES}>`,
    );
    expect(text).toContain("deploy of backend to production (acme/shop `a1b2c3d`)");
  });
});
