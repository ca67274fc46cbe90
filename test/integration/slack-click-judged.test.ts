import { afterEach, describe, expect, it } from "vitest";
import { ApprovalClick, Rejection } from "../../src/pipeline/slack-inbox.js";
import { newEvent, type ThreadEvent } from "../../src/thread/events.js";
import { MERGE_SHA } from "../helpers/fixtures.js";
import { CONFIG_YAML, mockCiState, mockCreateDeployment, mockDispatch } from "../helpers/github-mocks.js";
import {
  clickBody,
  mockSlack,
  rejectSubmissionBody,
  startAppServer,
  untilApprovalCard,
  type AppServer,
} from "../helpers/app-server.js";

/**
 * An approval is judged when it is given: a click after the approval's expiry, or on the card of a
 * thread that ended, is refused with an ephemeral reason, records nothing, and leaves the card
 * saying why, even when no sweep has recorded the expiry yet. Time is the test's clock.
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

const decisions = (events: ThreadEvent[]) =>
  events.filter((e) => e.type === "approval_granted" || e.type === "approval_rejected");

describe("a click as the Slack route stores it", () => {
  it("carries the time deploybot received it, by deploybot's clock", async () => {
    const { approvalId } = await atApprovalCard();
    app.now.value = new Date("2026-11-24T13:30:00.000Z");

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.slack("/slack/actions", rejectSubmissionBody(approvalId, "U01APPROVER", "not now"));

    const click = await app.store.claimInbox("test", app.now.value, 60_000);
    const rejection = await app.store.claimInbox("test", app.now.value, 60_000);
    expect(click).toMatchObject({
      kind: "slack.approve",
      payload: { approval_id: approvalId, clicked_at: "2026-11-24T13:30:00.000Z" },
    });
    expect(rejection).toMatchObject({
      kind: "slack.reject",
      payload: { approval_id: approvalId, clicked_at: "2026-11-24T13:30:00.000Z" },
    });
  });
});

describe("a click after the approval expired, before any sweep recorded it", () => {
  it("is refused with an ephemeral reason, records no approval, and the card says it expired", async () => {
    const { threadId, approvalId, cardTs } = await atApprovalCard();
    const calls = app.slackCalls.length;
    // No usergroups lookup: a closed approval is refused before anyone's rights are looked up.
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1, "chat.update": 1 });
    // The clock passes the 24-hour expiry; nothing runs in between (no advance, no sweep).
    app.now.value = new Date(app.now.value.getTime() + 24 * HOUR + MINUTE);

    const response = await app.slack(
      "/slack/actions",
      clickBody("deploybot.approve", approvalId, "U01APPROVER"),
    );
    await app.runWorker();

    expect(response.status).toBe(200);
    expect(slack.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    expect(decisions(events)).toEqual([]);
    expect(events.filter((e) => e.type === "deploy_authorized")).toHaveLength(1); // staging only
    expect(events.filter((e) => e.type === "approval_expired")).toEqual([
      expect.objectContaining({ data: { approval_id: approvalId } }),
    ]);
    const sent = app.slackCalls.slice(calls);
    const ephemeral = sent.find((c) => c.method === "chat.postEphemeral")!;
    expect(ephemeral.body.user).toBe("U01APPROVER");
    expect(ephemeral.body.channel).toBe("C01DEPLOYS");
    expect(String(ephemeral.body.text)).toContain(
      "This approval is no longer pending: it expired at 2026-11-25T12:00:00.000Z. Nothing changed.",
    );
    const update = sent.find((c) => c.method === "chat.update")!;
    expect(update.body.ts).toBe(cardTs);
    expect(JSON.stringify(update.body.blocks)).toContain("without a decision");
    expect(JSON.stringify(update.body.blocks)).not.toContain("deploybot.approve");
  });

  it("opens a rejection modal that says the approval expired", async () => {
    const { approvalId } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "views.open": 1 });
    app.now.value = new Date(app.now.value.getTime() + 25 * HOUR);

    await app.slack("/slack/actions", clickBody("deploybot.reject", approvalId, "U01APPROVER"));

    expect(slack.isDone()).toBe(true);
    const view = app.slackCalls.slice(calls)[0]!.body.view;
    expect(JSON.stringify(view)).toContain(
      "This approval is no longer pending: it expired at 2026-11-25T12:00:00.000Z. A rejection changes nothing.",
    );
  });

  it("refuses a rejection submitted after the expiry the same way, in the card's channel", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1, "chat.update": 1 });
    app.now.value = new Date(app.now.value.getTime() + 25 * HOUR);

    await app.slack("/slack/actions", rejectSubmissionBody(approvalId, "U01APPROVER", "not now"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(decisions(await eventsOf(threadId))).toEqual([]);
    const ephemeral = app.slackCalls.slice(calls).find((c) => c.method === "chat.postEphemeral")!;
    expect(ephemeral.body.channel).toBe("C01DEPLOYS");
    expect(String(ephemeral.body.text)).toContain("it expired at");
  });

  /** Slack and GitHub answering a granted production approval: the card update, the deploy. */
  function mockGrantedDeploy() {
    return [
      mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1, "chat.postMessage": 1 }),
      // A day after the merge, its CI state is looked up again before production is judged.
      mockCiState(MERGE_SHA),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
  }

  it("still grants a click made a minute before the expiry", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const scopes = mockGrantedDeploy();
    app.now.value = new Date(app.now.value.getTime() + 24 * HOUR - MINUTE);

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(decisions(await eventsOf(threadId))).toEqual([
      expect.objectContaining({
        type: "approval_granted",
        data: { approval_id: approvalId, by: "U01APPROVER", channel: "slack", slack_user: "U01APPROVER" },
      }),
    ]);
  });

  it("grants a click received before the expiry even when the worker handles it after", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const scopes = mockGrantedDeploy();
    app.now.value = new Date(app.now.value.getTime() + 24 * HOUR - MINUTE);
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    app.now.value = new Date(app.now.value.getTime() + 2 * MINUTE);

    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    expect(events.filter((e) => e.type === "approval_expired")).toEqual([]);
    expect(decisions(events)).toEqual([expect.objectContaining({ type: "approval_granted" })]);
    expect(events.filter((e) => e.type === "deploy_authorized").at(-1)?.data.environment).toBe("production");
  });
});

describe("a click on the card of a cancelled thread", () => {
  it("finds the card already closed by the cancel, and is refused without recording anything", async () => {
    const { threadId, approvalId, cardTs } = await atApprovalCard();
    const calls = app.slackCalls.length;
    const closing = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });
    expect((await app.api("POST", `/api/v1/threads/${threadId}/cancel`, { reason: "wrong PR" })).status).toBe(
      202,
    );
    await app.runWorker();
    expect(closing.isDone()).toBe(true);
    const update = app.slackCalls.slice(calls).find((c) => c.method === "chat.update")!;
    expect(update.body.ts).toBe(cardTs);
    expect(JSON.stringify(update.body.blocks)).toContain("Closed without a decision at");
    expect(JSON.stringify(update.body.blocks)).toContain("the thread was cancelled by api:ci: wrong PR");
    expect(JSON.stringify(update.body.blocks)).not.toContain("deploybot.approve");

    const refusal = mockSlack(app.slackCalls, { "chat.postEphemeral": 1 });
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.runWorker();

    expect(refusal.isDone()).toBe(true);
    expect(decisions(await eventsOf(threadId))).toEqual([]);
    expect(String(app.slackCalls.at(-1)!.body.text)).toContain(
      "no longer pending: the thread was cancelled by api:ci: wrong PR",
    );
  });

  it("updates a card the cancel left open, says why in an ephemeral, and records no approval", async () => {
    const { threadId, approvalId, cardTs } = await atApprovalCard();
    // A thread cancelled while its card was not updated (Slack was down, or an older version).
    const thread = (await app.store.getThread(threadId))!;
    await app.store.appendEvents(
      threadId,
      thread.events.at(-1)!.seq,
      [
        newEvent("cancelled", { by: "api:ci", reason: null }),
        newEvent("slack_posted", {
          key: `progress:${thread.events.at(-1)!.seq + 1}`,
          purpose: "progress",
          channel: "C01DEPLOYS",
          ts: "1700000099.000100",
          error: null,
        }),
      ],
      app.now.value,
    );
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1, "chat.update": 1 });

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    expect(decisions(events)).toEqual([]);
    expect((await app.store.getThreadSummary(threadId))?.status).toBe("cancelled");
    const sent = app.slackCalls.slice(calls);
    expect(String(sent.find((c) => c.method === "chat.postEphemeral")!.body.text)).toContain(
      "This approval is no longer pending: the thread was cancelled by api:ci. Nothing changed.",
    );
    const update = sent.find((c) => c.method === "chat.update")!;
    expect(update.body.ts).toBe(cardTs);
    expect(JSON.stringify(update.body.blocks)).toContain("the thread was cancelled by api:ci");
    expect(String(update.body.text)).toContain("Closed: deploy of backend to production");
  });
});

describe("the PR's author and the users: mapping", () => {
  it("refuses the author whose login differs in case from the mapping", async () => {
    // The webhook's author is "octocat"; the config spells the login "OctoCat" and lists them.
    const config = CONFIG_YAML.replace(
      "[U01APPROVER, S01RELEASETEAM]",
      "[U01APPROVER, U01OCTOCAT, S01RELEASETEAM]",
    ).replace("  octocat: U01OCTOCAT", "  OctoCat: U01OCTOCAT");
    const { threadId, approvalId } = await atApprovalCard(config);
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.postEphemeral": 1 });
    const before = (await eventsOf(threadId)).length;

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01OCTOCAT"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(await eventsOf(threadId)).toHaveLength(before);
    expect(String(app.slackCalls.at(-1)!.body.text)).toContain("you authored this pull request");
  });

  it("says on the production card that self-approval cannot be checked when the author is not mapped", async () => {
    await atApprovalCard(CONFIG_YAML.replace("  octocat: U01OCTOCAT", "  someone: U01SOMEONE"));

    const card = app.slackCalls.filter((c) => c.method === "chat.postMessage").at(-1)!;
    const text = JSON.stringify(card.body.blocks);
    expect(text).toContain("Self-approval cannot be checked: octocat authored this pull request");
    expect(text).toContain("has no Slack id under `users:` in .github/deploybot.yml");
  });

  it("says nothing of the kind when the author is mapped", async () => {
    await atApprovalCard();

    const card = app.slackCalls.filter((c) => c.method === "chat.postMessage").at(-1)!;
    expect(JSON.stringify(card.body.blocks)).not.toContain("Self-approval cannot be checked");
  });
});

describe("a stored click read back by the worker", () => {
  it("gives the time it was received as a Date, ready for decideApproval", () => {
    expect(
      ApprovalClick.parse({
        approval_id: "ap_1",
        user: "U01APPROVER",
        channel: "C01DEPLOYS",
        clicked_at: "2026-11-24T13:30:00.000Z",
      }).clicked_at,
    ).toEqual(new Date("2026-11-24T13:30:00.000Z"));
    expect(
      Rejection.parse({ approval_id: "ap_1", user: "U01APPROVER", reason: "no" }).clicked_at,
    ).toBeUndefined();
  });
});
