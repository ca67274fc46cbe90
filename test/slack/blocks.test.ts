import type { KnownBlock, SectionBlock } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import {
  approvalCard,
  cut,
  decidedCard,
  deployFinished,
  deployStarted,
  escapeMrkdwn,
  questionMessage,
  refusedClick,
  rejectModal,
  reminderText,
  statusBlocks,
  threadStarted,
  type ApprovalCardInput,
  type SlackMessage,
  type StatusThread,
} from "../../src/slack/blocks.js";

const SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const CURRENT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0deadbeef";
const EXPIRES = "2026-01-01T00:00:00.000Z";
const EXPIRES_UNIX = 1_767_225_600;

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

/** Every piece of text a message carries, with the limit Slack applies to it. */
function texts(blocks: KnownBlock[]): { kind: string; text: string }[] {
  const found: { kind: string; text: string }[] = [];
  for (const block of blocks) {
    if (block.type === "header") found.push({ kind: "header", text: block.text.text });
    if (block.type === "section") {
      if (block.text) found.push({ kind: "section", text: block.text.text });
      for (const field of block.fields ?? []) found.push({ kind: "field", text: field.text });
    }
    if (block.type === "context") {
      for (const element of block.elements)
        if ("text" in element) found.push({ kind: "context", text: element.text });
    }
  }
  return found;
}

function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  const limits: Record<string, number> = { header: 150, section: 3000, field: 2000, context: 3000 };
  for (const { kind, text } of texts(message.blocks)) {
    expect(text.length, `${kind} text`).toBeLessThanOrEqual(limits[kind] ?? 0);
    expect(text.length, `${kind} text`).toBeGreaterThan(0);
  }
  for (const block of message.blocks) {
    if (block.type === "section") expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    if (block.type === "actions") {
      for (const element of block.elements) {
        if (element.type === "button") expect(element.value?.length ?? 0).toBeLessThanOrEqual(2000);
      }
    }
  }
}

function allText(message: SlackMessage): string {
  return [message.text, ...texts(message.blocks).map((t) => t.text)].join("\n");
}

describe("escaping and cutting text", () => {
  it("escapes the three characters Slack treats as markup", () => {
    expect(escapeMrkdwn("a & <b> <!channel>")).toBe("a &amp; &lt;b&gt; &lt;!channel&gt;");
  });

  it("leaves text that fits untouched", () => {
    expect(cut("short", 10)).toBe("short");
  });

  it("ends a cut text with a link to the rest when one is given", () => {
    const result = cut("x".repeat(500), 100, "https://github.com/acme/shop/pull/42");
    expect(result.length).toBeLessThanOrEqual(100);
    expect(result.endsWith("… <https://github.com/acme/shop/pull/42|more>")).toBe(true);
  });

  it("never leaves half an escape or half a link behind", () => {
    expect(cut(`${"a".repeat(8)}&amp;tail`, 11)).toBe(`${"a".repeat(8)}…`);
    expect(cut(`abc <https://example.com/a/very/long/path|label> tail`, 20)).toBe("abc …");
  });
});

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

describe("the reject modal", () => {
  it("matches the Slack interface contract exactly", () => {
    expect(rejectModal("apr_01JD8Z6W3K", "Deploy backend `a1b2c3d` to production <!channel>")).toEqual({
      type: "modal",
      callback_id: "deploybot.reject",
      private_metadata: "apr_01JD8Z6W3K",
      title: { type: "plain_text", text: "Reject deploy" },
      submit: { type: "plain_text", text: "Reject" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: "Deploy backend `a1b2c3d` to production &lt;!channel&gt;" },
        },
        {
          type: "input",
          block_id: "reason",
          label: { type: "plain_text", text: "Why? deploybot re-plans with your reason" },
          element: { type: "plain_text_input", action_id: "reason", multiline: true, max_length: 2000 },
        },
      ],
    });
  });

  it("keeps a huge summary within the section limit", () => {
    const view = rejectModal("apr_1", "S".repeat(10_000));
    const summary = view.blocks[0] as SectionBlock;
    expect(summary.text?.text.length).toBeLessThanOrEqual(3000);
    expect(summary.text?.text.endsWith("…")).toBe(true);
  });
});

describe("a question to a human", () => {
  it("quotes the escaped question and says how to answer", () => {
    const message = questionMessage(
      "Deploy <!channel> on a Friday?",
      "production is frozen",
      "acme/shop #42",
    );
    const text = allText(message);
    expect(text).toContain(">Deploy &lt;!channel&gt; on a Friday?");
    expect(text).toContain("*Why:* production is frozen");
    expect(text).toContain("acme/shop #42");
    expect(text).toContain("Reply in this thread to answer.");
    expect(message.text).toBe("deploybot asks: Deploy &lt;!channel&gt; on a Friday?");
    expectWithinSlackLimits(questionMessage("Q".repeat(10_000), "R".repeat(10_000), "C".repeat(10_000)));
  });
});

describe("progress lines", () => {
  it("announce a thread with its pull request, components and request", () => {
    const line = threadStarted(
      "acme/shop",
      { number: 42, title: "Fix <b>", url: "https://github.com/acme/shop/pull/42" },
      ["backend", "frontend"],
      "deploy it <!here>",
    );
    expect(line).toContain("<https://github.com/acme/shop/pull/42|#42 Fix &lt;b&gt;>");
    expect(line).toContain("*acme/shop* (backend, frontend)");
    expect(line).toContain(">deploy it &lt;!here&gt;");
  });

  it("link a deploy to its workflow run and say how it ended", () => {
    expect(deployStarted("backend", "staging", SHA, "https://github.com/acme/shop/actions/runs/9")).toBe(
      ":arrow_forward: Deploying backend `a1b2c3d` to staging (<https://github.com/acme/shop/actions/runs/9|workflow run>)",
    );
    const finished = deployFinished("backend", "staging", SHA, "failure", "exit code 1 <@U1>", null);
    expect(finished).toContain(":x: backend `a1b2c3d` to staging: failure");
    expect(finished).toContain(">exit code 1 &lt;@U1&gt;");
  });

  it("explain a refused click without letting the reason format itself", () => {
    expect(refusedClick("You opened PR <#42>; someone else must approve.")).toBe(
      ":no_entry_sign: You opened PR &lt;#42&gt;; someone else must approve.",
    );
  });
});

describe("the status answer", () => {
  const thread = (i: number): StatusThread => ({
    id: `thr_${i}`,
    title: `acme/shop #${i}`,
    status: "deploying",
    waitingOn: i % 2 === 0 ? "approval" : null,
    updatedAt: EXPIRES,
  });

  it("says nothing is running when nothing is", () => {
    expect(statusBlocks([])).toEqual({
      text: "No deploys running.",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "No deploys running." } }],
    });
  });

  it("lists at most 20 threads, then how many more", () => {
    const message = statusBlocks(Array.from({ length: 27 }, (_, i) => thread(i)));
    const text = allText(message);
    expect(text).toContain("acme/shop #19");
    expect(text).not.toContain("acme/shop #20");
    expect(text).toContain("and 7 more");
    expect(text).toContain("waiting on approval");
    expect(message.blocks.filter((block) => block.type === "section")).toHaveLength(21);
    expectWithinSlackLimits(message);
  });
});
