import { describe, expect, it } from "vitest";
import { nextPrCommentSync, renderPrComment } from "../../src/agent/pr-comment.js";
import { newEvent } from "../../src/thread/events.js";
import {
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  sampleConfig,
  threadWith,
} from "../helpers/thread-builder.js";

const config = sampleConfig();
const step = deployStep("backend", "production");

describe("the pull request comment, for decisions from every channel", () => {
  it("shows who approved and through which channel", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.approvalRequested(step),
      newEvent("approval_granted", { approval_id: "ap_1", by: "Hubot", channel: "github", slack_user: null }),
    ]);
    expect(renderPrComment(thread, config)).toContain(
      `backend \`${MERGE_SHA.slice(0, 7)}\` to production approved by Hubot (GitHub)`,
    );
  });

  it("shows a rejection with its reason", () => {
    const thread = threadWith([
      ...mergeStart(),
      on.approvalRequested(step),
      newEvent("approval_rejected", {
        approval_id: "ap_1",
        by: "release",
        channel: "api",
        slack_user: null,
        reason: "frontend first",
      }),
    ]);
    expect(renderPrComment(thread, config)).toContain("rejected by api:release (REST API): frontend first");
  });
});

describe("the pull request comment of a thread started elsewhere", () => {
  const request = newEvent("chat_request", {
    text: "deploy backend to production",
    slack_user: "U01ASKER",
    channel: "C01DEPLOYS",
    ts: "1.2",
    source: "mention",
    requested_by: null,
    installation_id: 4242,
    owner: "acme",
    repo: "shop",
  });
  const found = newEvent("pr_found", {
    number: 12,
    author: "monalisa",
    html_url: "https://github.com/acme/shop/pull/12",
    sha: MERGE_SHA,
  });

  it("goes to the pull request of the commit it deploys, with the components it acted on", () => {
    const thread = threadWith([request, found, on.approvalRequested(step)]);
    const sync = nextPrCommentSync(thread, config);
    expect(sync?.number).toBe(12);
    expect(sync?.body).toContain("asked for: deploy backend to production");
    expect(sync?.body).toContain("| **backend** |");
  });

  it("is not written when the commit has no pull request", () => {
    const thread = threadWith([request, on.approvalRequested(step)]);
    expect(nextPrCommentSync(thread, config)).toBeNull();
  });
});
