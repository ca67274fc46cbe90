import { describe, expect, it } from "vitest";
import {
  deployFinished,
  deployStarted,
  questionMessage,
  refusedClick,
  statusBlocks,
  threadStarted,
  type StatusThread,
} from "../../src/slack/progress.js";
import { allText, expectWithinSlackLimits, EXPIRES, SHA } from "../helpers/slack-messages.js";

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
