import type { KnownBlock, View } from "@slack/web-api";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { createSlackClient, SlackCallError, toSlackCallError } from "../../src/slack/client.js";

const SLACK = "https://slack.test";
const TOKEN = "xoxb-0000000000-test-SECRET-token";
const BLOCKS: KnownBlock[] = [
  { type: "section", text: { type: "mrkdwn", text: "*Deploy* `a1b2c3d` to staging" } },
];

function client(timeoutMs = 2_000) {
  return createSlackClient({ token: TOKEN, apiUrl: `${SLACK}/api/`, retries: 0, timeoutMs });
}

/** A Slack Web API mock that only answers requests carrying the bot token as a form post. */
function slackApi() {
  return nock(SLACK, {
    reqheaders: {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/x-www-form-urlencoded",
    },
  });
}

async function callError(run: () => Promise<unknown>): Promise<SlackCallError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(SlackCallError);
    return error as SlackCallError;
  }
  throw new Error("expected the call to fail");
}

describe("posting a message", () => {
  it("sends channel, text, blocks and thread as a form post with the bot token, and returns channel and ts", async () => {
    let sent: Record<string, string> = {};
    const scope = slackApi()
      .post("/api/chat.postMessage", (body: Record<string, string>) => {
        sent = body;
        return true;
      })
      .reply(200, { ok: true, channel: "C01DEPLOYS", ts: "1700000000.000100" });

    const posted = await client().postMessage({
      channel: "C01DEPLOYS",
      text: "Deploy a1b2c3d to staging",
      blocks: BLOCKS,
      threadTs: "1699999999.000001",
    });

    expect(posted).toEqual({ channel: "C01DEPLOYS", ts: "1700000000.000100" });
    expect(sent.channel).toBe("C01DEPLOYS");
    expect(sent.text).toBe("Deploy a1b2c3d to staging");
    expect(JSON.parse(sent.blocks ?? "null")).toEqual(BLOCKS);
    expect(sent.thread_ts).toBe("1699999999.000001");
    expect(sent.token).toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it("turns channel_not_found into a permanent error that does not carry the token", async () => {
    const scope = slackApi()
      .post("/api/chat.postMessage")
      .reply(200, { ok: false, error: "channel_not_found" });

    const error = await callError(() => client().postMessage({ channel: "C404", text: "hi" }));

    expect(error.message).toMatch(/^chat\.postMessage failed: channel_not_found/);
    expect(error.code).toBe("channel_not_found");
    expect(error.transient).toBe(false);
    expect(error.message).not.toContain(TOKEN);
    expect(error.stack ?? "").not.toContain(TOKEN);
    expect(scope.isDone()).toBe(true);
  });

  it.each(["not_in_channel", "invalid_auth"])("treats %s as permanent", async (code) => {
    const scope = slackApi().post("/api/chat.postMessage").reply(200, { ok: false, error: code });

    const error = await callError(() => client().postMessage({ channel: "C1", text: "hi" }));

    expect(error).toMatchObject({ code, transient: false });
    expect(scope.isDone()).toBe(true);
  });

  it("treats an HTTP 500 as transient", async () => {
    const scope = slackApi().post("/api/chat.postMessage").reply(500, "upstream broke");

    const error = await callError(() => client().postMessage({ channel: "C1", text: "hi" }));

    expect(error).toMatchObject({
      message: "chat.postMessage failed: HTTP 500",
      code: "http_500",
      transient: true,
    });
    expect(scope.isDone()).toBe(true);
  });

  it("never posts again by itself after a lost answer, even where other calls are retried", async () => {
    let posts = 0;
    const scope = slackApi()
      .persist()
      .post("/api/chat.postMessage", () => {
        posts += 1;
        return true;
      })
      .reply(502, "bad gateway");
    const retrying = createSlackClient({
      token: TOKEN,
      apiUrl: `${SLACK}/api/`,
      retries: 2,
      timeoutMs: 2_000,
    });

    const error = await callError(() => retrying.postMessage({ channel: "C1", text: "hi" }));

    expect(error.transient).toBe(true);
    expect(posts).toBe(1);
    expect(scope.isDone()).toBe(true);
  });

  it("treats a rate limit as transient", async () => {
    const scope = slackApi()
      .post("/api/chat.postMessage")
      .reply(429, { ok: false, error: "ratelimited" }, { "Retry-After": "0" });

    const error = await callError(() => client().postMessage({ channel: "C1", text: "hi" }));

    expect(error).toMatchObject({ code: "ratelimited", transient: true });
    expect(scope.isDone()).toBe(true);
  });

  it("treats a connection that fails as transient", async () => {
    const scope = slackApi().post("/api/chat.postMessage").replyWithError("socket hang up");

    const error = await callError(() => client().postMessage({ channel: "C1", text: "hi" }));

    expect(error).toMatchObject({ code: "request_error", transient: true });
    expect(error.message).toMatch(/^chat\.postMessage failed: request error/);
    expect(scope.isDone()).toBe(true);
  });

  it("treats no answer within the timeout as transient", async () => {
    const scope = slackApi().post("/api/chat.postMessage").delay(1_000).reply(200, { ok: true, ts: "1.2" });

    const error = await callError(() => client(100).postMessage({ channel: "C1", text: "hi" }));

    expect(error).toMatchObject({
      message: "chat.postMessage failed: no answer within 100 ms",
      code: "timeout",
      transient: true,
    });
    expect(scope.isDone()).toBe(true);
  });
});

describe("the other calls", () => {
  it("update a message in place with new blocks", async () => {
    let sent: Record<string, string> = {};
    const scope = slackApi()
      .post("/api/chat.update", (body: Record<string, string>) => {
        sent = body;
        return true;
      })
      .reply(200, { ok: true, channel: "C1", ts: "1.2" });

    await client().updateMessage({ channel: "C1", ts: "1.2", text: "Approved", blocks: BLOCKS });

    expect(sent).toMatchObject({ channel: "C1", ts: "1.2", text: "Approved" });
    expect(JSON.parse(sent.blocks ?? "null")).toEqual(BLOCKS);
    expect(scope.isDone()).toBe(true);
  });

  it("post an ephemeral message to one user", async () => {
    const scope = slackApi()
      .post("/api/chat.postEphemeral", { channel: "C1", user: "U1", text: "Not yours to approve." })
      .reply(200, { ok: true, message_ts: "1.3" });

    await client().postEphemeral({ channel: "C1", user: "U1", text: "Not yours to approve." });

    expect(scope.isDone()).toBe(true);
  });

  it("open a modal with the trigger id, and say when the trigger expired", async () => {
    const view: View = { type: "modal", title: { type: "plain_text", text: "Reject deploy" }, blocks: [] };
    let sent: Record<string, string> = {};
    const scope = slackApi()
      .post("/api/views.open", (body: Record<string, string>) => {
        sent = body;
        return true;
      })
      .reply(200, { ok: true, view: { id: "V1" } })
      .post("/api/views.open")
      .reply(200, { ok: false, error: "expired_trigger_id" });

    await client().openView("123.456.abc", view);
    const error = await callError(() => client().openView("123.456.abc", view));

    expect(sent.trigger_id).toBe("123.456.abc");
    expect(JSON.parse(sent.view ?? "null")).toEqual(view);
    expect(error).toMatchObject({ code: "expired_trigger_id", transient: false });
    expect(error.message).toMatch(/^views\.open failed: expired_trigger_id/);
    expect(scope.isDone()).toBe(true);
  });

  it("list the members of a user group", async () => {
    const scope = slackApi()
      .post("/api/usergroups.users.list", { usergroup: "S01RELEASETEAM" })
      .reply(200, { ok: true, users: ["U01APPROVER", "U02APPROVER"] });

    await expect(client().userGroupMembers("S01RELEASETEAM")).resolves.toEqual([
      "U01APPROVER",
      "U02APPROVER",
    ]);
    expect(scope.isDone()).toBe(true);
  });
});

describe("mapping errors", () => {
  it("never repeats the token, even when an error message contains it", () => {
    const error = toSlackCallError("chat.postMessage", new Error(`bad header Bearer ${TOKEN}`), {
      token: TOKEN,
      timeoutMs: 1_000,
    });
    expect(error.message).toBe("chat.postMessage failed: bad header Bearer [redacted]");
    expect(error.transient).toBe(false);
  });
});
