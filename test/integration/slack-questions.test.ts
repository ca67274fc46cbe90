import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Decider, DecisionResult } from "../../src/agent/decide.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import type { ThreadEvent } from "../../src/thread/events.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  mockCreateDeployment,
  mockDispatch,
  mockMergeContext,
  type DeploymentBody,
} from "../helpers/github-mocks.js";
import { mockSlack, slackEventBody, startAppServer, type AppServer } from "../helpers/app-server.js";
import { TEST_DECISION_META } from "../helpers/thread-builder.js";

/**
 * Contacting humans with a tool call: a decider's `ask_human` is posted to Slack, and a
 * person's reply in that question's Slack thread (Events API `message`) is the answer the thread
 * continues with.
 */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const QUESTION = "CI on the merge is flaky today; deploy the backend anyway?";

/** Asks a human once, then decides by the rules. */
function askingOnceDecider(): Decider {
  const rules = createRulesDecider();
  let asked = false;
  return {
    name: "rules",
    async decide(request): Promise<DecisionResult> {
      if (asked) return rules.decide(request);
      asked = true;
      return {
        ok: true,
        step: { intent: "ask_human", question: QUESTION, reason: "the last CI run of main was red" },
        meta: TEST_DECISION_META,
      };
    },
  };
}

let app: AppServer;
afterEach(async () => app?.stop());

async function eventsOf(): Promise<ThreadEvent[]> {
  return (await app.store.getThread(THREAD_ID))!.events;
}

/** A merge whose first decision asks a human; returns where the question was posted. */
async function untilQuestion(): Promise<{ channel: string; ts: string }> {
  app = await startAppServer({ decider: askingOnceDecider() });
  const scopes = [
    ...mockMergeContext(),
    // The thread's first message, then the question under it.
    mockSlack(app.slackCalls, { "chat.postMessage": 2 }),
  ];
  expect((await app.webhook("pull_request", mergedPullRequest())).status).toBe(200);
  await app.runWorker();
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  expect((await app.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_human");
  const posted = (await eventsOf()).find((e) => e.type === "slack_posted" && e.data.purpose === "question");
  if (posted?.type !== "slack_posted" || !posted.data.ts) throw new Error("the question was not posted");
  return { channel: posted.data.channel, ts: posted.data.ts };
}

function reply(
  question: { channel: string; ts: string },
  fields: Record<string, unknown> = {},
  eventId?: string,
): string {
  return slackEventBody(
    {
      type: "message",
      user: "U01APPROVER",
      text: "yes, deploy it",
      channel: question.channel,
      ts: "1700000500.000300",
      thread_ts: question.ts,
      ...fields,
    },
    eventId,
  );
}

/** The GitHub and Slack calls of the thread continuing after the answer: a staging deploy. */
function mockContinuation(sent: DeploymentBody[] = []) {
  return [
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }, sent),
    mockDispatch("deploy-backend.yml", 5001),
    // The progress reply under the thread's first message.
    mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
  ];
}

describe("a question to a human in Slack", () => {
  it("posts the decider's question to the repository's channel", async () => {
    await untilQuestion();

    const [root, question] = app.slackCalls;
    expect(String(root!.body.text)).toContain("deploybot is on");
    expect(question!.method).toBe("chat.postMessage");
    expect(question!.body.channel).toBe("C01DEPLOYS");
    expect(question!.body.thread_ts).toBe("1700000001.000100");
    expect(String(question!.body.text)).toContain(`deploybot asks: ${QUESTION}`);
    const blocks = JSON.stringify(question!.body.blocks);
    expect(blocks).toContain(QUESTION);
    expect(blocks).toContain("the last CI run of main was red");
    expect(blocks).toContain("Reply in this thread to answer.");
  });

  it("records a reply in the question's Slack thread as the answer, with its author", async () => {
    const question = await untilQuestion();
    const scopes = mockContinuation();

    const response = await app.slack("/slack/events", reply(question));
    await app.runWorker();

    expect(response.status).toBe(200);
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect((await eventsOf()).filter((e) => e.type === "human_answered")).toEqual([
      expect.objectContaining({ data: { answer: "yes, deploy it", slack_user: "U01APPROVER" } }),
    ]);
  });

  it("continues the thread after the answer: the next decision deploys to staging", async () => {
    const question = await untilQuestion();
    const sent: DeploymentBody[] = [];
    const scopes = mockContinuation(sent);
    const calls = app.slackCalls.length;

    await app.slack("/slack/events", reply(question));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(sent.map((d) => [d.ref, d.environment, d.payload.component])).toEqual([
      [MERGE_SHA, "staging", "backend"],
    ]);
    const events = await eventsOf();
    const answered = events.find((e) => e.type === "human_answered")!;
    expect(events.some((e) => e.type === "decision" && e.seq > answered.seq)).toBe(true);
    expect((await app.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_deploy");
    const progress = app.slackCalls.slice(calls).map((c) => String(c.body.text));
    expect(progress[0]).toContain("Deploying backend `0123456` to staging");
  });

  it("handles an event Slack delivers twice (same event_id) once", async () => {
    const question = await untilQuestion();
    const scopes = mockContinuation();
    const body = reply(question, {}, "Ev0RETRIED1");

    expect((await app.slack("/slack/events", body)).status).toBe(200);
    await app.runWorker();
    expect((await app.slack("/slack/events", body)).status).toBe(200);
    expect(await app.runWorker()).toBe(0);

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect((await eventsOf()).filter((e) => e.type === "human_answered")).toHaveLength(1);
    expect(await app.store.inboxCounts()).toMatchObject({ queued: 0, dead: 0 });
  });

  it("ignores a bot's message in the question's thread", async () => {
    const question = await untilQuestion();
    const before = await eventsOf();
    const calls = app.slackCalls.length;

    await app.slack("/slack/events", reply(question, { bot_id: "B01OTHERBOT", user: "U0OTHERBOT" }));
    await app.runWorker();

    expect(await eventsOf()).toEqual(before);
    expect(app.slackCalls).toHaveLength(calls);
    expect((await app.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_human");
  });

  it("ignores a reply in another Slack thread of the channel", async () => {
    const question = await untilQuestion();
    const before = await eventsOf();

    await app.slack("/slack/events", reply({ ...question, ts: "1699999999.000100" }));
    await app.runWorker();

    expect(await eventsOf()).toEqual(before);
  });
});

describe("the Events API endpoint", () => {
  it("answers Slack's url_verification with its challenge and stores nothing", async () => {
    app = await startAppServer();
    const body = readFileSync(new URL("../fixtures/slack/url-verification.json", import.meta.url), "utf8");

    const response = await app.slack("/slack/events", body);

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
    expect(await app.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  });
});
