import { afterEach, describe, expect, it } from "vitest";
import type { ThreadEvent } from "../../src/thread/events.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";
import { mockSlack, startAppServer, untilApprovalCard, type AppServer } from "../helpers/app-server.js";

/**
 * Approvals expire: a reminder goes out as a reply under the card a quarter of the
 * approval's life before it expires (at most an hour before), once; on expiry the card is updated and
 * the decider is asked what to do next. Time is the test's clock, moved with `app.advance`.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let app: AppServer;
afterEach(async () => app?.stop());

async function atApprovalCard(config = CONFIG_YAML) {
  app = await startAppServer();
  return untilApprovalCard(app, config);
}

async function eventsOf(threadId: string): Promise<ThreadEvent[]> {
  return (await app.store.getThread(threadId))!.events;
}

describe("an approval that nobody decides", () => {
  it("posts nothing before the reminder is due", async () => {
    const { threadId } = await atApprovalCard();
    const before = await eventsOf(threadId);
    const calls = app.slackCalls.length;

    await app.advance(23 * HOUR - MINUTE);

    expect(app.slackCalls).toHaveLength(calls);
    expect(await eventsOf(threadId)).toEqual(before);
  });

  it("posts a reminder in the card's thread an hour before a 24-hour approval expires", async () => {
    const { cardTs } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 1 });

    await app.advance(23 * HOUR);

    expect(slack.isDone()).toBe(true);
    const sent = app.slackCalls.slice(calls);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.channel).toBe("C01DEPLOYS");
    expect(sent[0]!.body.thread_ts).toBe(cardTs);
    const text = String(sent[0]!.body.text);
    expect(text).toContain("Reminder: this approval expires");
    expect(text).toContain("deploy of backend to production");
    expect(text).toContain("2026-11-25T12:00:00.000Z");
  });

  it("posts the reminder only once however often time moves on before expiry", async () => {
    const { threadId } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 1 });

    await app.advance(23 * HOUR);
    await app.advance(20 * MINUTE);
    await app.advance(20 * MINUTE);
    await app.advance(19 * MINUTE);

    expect(slack.isDone()).toBe(true);
    expect(app.slackCalls.slice(calls)).toHaveLength(1);
    const events = await eventsOf(threadId);
    expect(events.filter((e) => e.type === "slack_posted" && e.data.purpose === "reminder")).toHaveLength(1);
    expect(events.some((e) => e.type === "approval_expired")).toBe(false);
  });

  it("reminds a quarter of the approval's life before it expires when that is under an hour", async () => {
    const { cardTs } = await atApprovalCard(
      CONFIG_YAML.replace("approval_expires_after: 24h", "approval_expires_after: 2h"),
    );
    const calls = app.slackCalls.length;

    await app.advance(90 * MINUTE - 1_000);
    expect(app.slackCalls).toHaveLength(calls);

    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 1 });
    await app.advance(1_000);

    expect(slack.isDone()).toBe(true);
    expect(app.slackCalls.slice(calls).map((c) => c.body.thread_ts)).toEqual([cardTs]);
  });

  it("records the expiry when the approval's time is up", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });

    await app.advance(24 * HOUR);

    expect(slack.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    expect(events.filter((e) => e.type === "approval_expired")).toEqual([
      expect.objectContaining({ at: "2026-11-25T12:00:00.000Z", data: { approval_id: approvalId } }),
    ]);
    expect(events.filter((e) => e.type === "deployment_created")).toHaveLength(1);
  });

  it("updates the expired card in place: no buttons, and marked expired", async () => {
    const { cardTs } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });

    await app.advance(24 * HOUR);

    expect(slack.isDone()).toBe(true);
    const update = app.slackCalls.slice(calls).find((c) => c.method === "chat.update")!.body;
    expect(update.channel).toBe("C01DEPLOYS");
    expect(update.ts).toBe(cardTs);
    const blocks = JSON.stringify(update.blocks);
    expect(blocks).not.toContain("deploybot.approve");
    expect(blocks).not.toContain("deploybot.reject");
    expect(blocks).toContain("Expired");
    expect(String(update.text)).toContain("Expired");
  });

  it("asks the decider again after the expiry, which here stops the thread and says why", async () => {
    const { threadId } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });

    await app.advance(24 * HOUR);

    expect(slack.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    const expired = events.find((e) => e.type === "approval_expired")!;
    const after = events.filter((e) => e.seq > expired.seq);
    expect(after.filter((e) => e.type === "decision")).toHaveLength(1);
    expect(after.some((e) => e.type === "approval_requested")).toBe(false);
    expect(events.filter((e) => e.type === "done")).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ by: "model" }) }),
    ]);
    const summary = app.slackCalls.slice(calls).find((c) => c.method === "chat.postMessage")!.body;
    expect(String(summary.text)).toContain("expired");
  });

  it("expires after the default 24 hours when the config does not say", async () => {
    const { threadId } = await atApprovalCard(CONFIG_YAML.replace("    approval_expires_after: 24h\n", ""));
    await app.advance(24 * HOUR - 1_000);
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });

    await app.advance(1_000);

    expect(slack.isDone()).toBe(true);
    expect((await eventsOf(threadId)).some((e) => e.type === "approval_expired")).toBe(true);
  });
});

describe("an approval that never expires", () => {
  it("neither reminds nor expires, however long it waits", async () => {
    const { threadId } = await atApprovalCard(
      CONFIG_YAML.replace("approval_expires_after: 24h", "approval_expires_after: never"),
    );
    const before = await eventsOf(threadId);
    const calls = app.slackCalls.length;

    for (let day = 0; day < 30; day++) await app.advance(24 * HOUR);

    expect(app.slackCalls).toHaveLength(calls);
    expect(await eventsOf(threadId)).toEqual(before);
    expect((await app.store.getThreadSummary(threadId))?.status).toBe("waiting_for_approval");
  });

  it("says so on its card", async () => {
    await atApprovalCard(CONFIG_YAML.replace("approval_expires_after: 24h", "approval_expires_after: never"));

    const card = app.slackCalls.at(-1)!.body;
    expect(JSON.stringify(card.blocks)).toContain("*Expires*\\nnever");
  });
});
