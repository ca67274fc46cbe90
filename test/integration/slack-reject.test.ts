import { afterEach, describe, expect, it } from "vitest";
import type { Decider, DecisionResult } from "../../src/agent/decide.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import type { ThreadEvent } from "../../src/thread/events.js";
import { renderContext } from "../../src/agent/context.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";
import {
  clickBody,
  mockSlack,
  rejectSubmissionBody,
  startAppServer,
  untilApprovalCard,
  type AppServer,
} from "../helpers/app-server.js";
import { TEST_DECISION_META } from "../helpers/thread-builder.js";

/**
 * Rejecting in Slack: Reject opens a modal for a reason; the reason is recorded
 * with who rejected, the card is updated in place, and the next decision reads the reason.
 */

const REASON = "not that commit: frontend first";

/** The rules decider until a rejection exists, then "done"; remembers the context of every decision. */
function recordingDecider(): Decider & { contexts: { afterRejection: boolean; context: string }[] } {
  const rules = createRulesDecider();
  const contexts: { afterRejection: boolean; context: string }[] = [];
  return {
    name: "rules",
    contexts,
    async decide(request): Promise<DecisionResult> {
      const afterRejection = request.thread.events.some((e) => e.type === "approval_rejected");
      contexts.push({ afterRejection, context: renderContext(request.thread, request.config) });
      if (!afterRejection) return rules.decide(request);
      return {
        ok: true,
        step: { intent: "done_for_now", message: "stopping: a human asked for the frontend first" },
        meta: TEST_DECISION_META,
      };
    },
  };
}

let app: AppServer;
let decider: ReturnType<typeof recordingDecider>;
afterEach(async () => app?.stop());

async function atApprovalCard(config = CONFIG_YAML) {
  decider = recordingDecider();
  app = await startAppServer({ decider });
  return untilApprovalCard(app, config);
}

async function eventsOf(threadId: string): Promise<ThreadEvent[]> {
  return (await app.store.getThread(threadId))!.events;
}

/** Submits the rejection modal with a reason and runs the worker; Slack answers the calls it makes. */
async function reject(approvalId: string, user = "U01APPROVER", reason = REASON) {
  const slack = mockSlack(app.slackCalls, {
    "usergroups.users.list": 1,
    "chat.update": 1,
    "chat.postMessage": 1,
  });
  const response = await app.slack("/slack/actions", rejectSubmissionBody(approvalId, user, reason));
  await app.runWorker();
  return { response, slack };
}

describe("rejecting an approval in Slack", () => {
  it("opens the rejection modal of the contract within the click's request", async () => {
    const { approvalId } = await atApprovalCard();
    const slack = mockSlack(app.slackCalls, { "views.open": 1 });

    const response = await app.slack(
      "/slack/actions",
      clickBody("deploybot.reject", approvalId, "U01APPROVER", "trig-reject-1"),
    );

    expect(response.status).toBe(200);
    expect(slack.isDone()).toBe(true);
    const open = app.slackCalls.at(-1)!;
    expect(open.method).toBe("views.open");
    expect(open.body.trigger_id).toBe("trig-reject-1");
    const view = open.body.view as {
      type: string;
      callback_id: string;
      private_metadata: string;
      blocks: { type: string; block_id?: string; element?: { type: string; action_id: string } }[];
    };
    expect(view.type).toBe("modal");
    expect(view.callback_id).toBe("deploybot.reject");
    expect(view.private_metadata).toBe(approvalId);
    const inputs = view.blocks.filter((b) => b.type === "input");
    expect(inputs).toHaveLength(1);
    expect(inputs[0]!.block_id).toBe("reason");
    expect(inputs[0]!.element).toMatchObject({ type: "plain_text_input", action_id: "reason" });
    expect(JSON.stringify(view.blocks)).toContain("Reject the deploy of backend 0123456 to production");
  });

  it("records nothing when the reject button is clicked, before a reason is given", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const before = await eventsOf(threadId);
    const inbox = await app.store.inboxCounts();
    const slack = mockSlack(app.slackCalls, { "views.open": 1 });

    await app.slack("/slack/actions", clickBody("deploybot.reject", approvalId, "U01APPROVER"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(await app.store.inboxCounts()).toEqual(inbox);
    expect(await eventsOf(threadId)).toEqual(before);
  });

  it("answers a submission without a reason with a field error and records nothing", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const before = await eventsOf(threadId);
    const inbox = await app.store.inboxCounts();
    const calls = app.slackCalls.length;

    const response = await app.slack(
      "/slack/actions",
      rejectSubmissionBody(approvalId, "U01APPROVER", "   "),
    );
    await app.runWorker();

    expect(response.status).toBe(200);
    const answer = JSON.parse(response.body) as { response_action: string; errors: Record<string, string> };
    expect(answer.response_action).toBe("errors");
    expect(Object.keys(answer.errors)).toEqual(["reason"]);
    expect(await app.store.inboxCounts()).toEqual(inbox);
    expect(await eventsOf(threadId)).toEqual(before);
    expect(app.slackCalls).toHaveLength(calls);
  });

  it("records the rejection with the Slack user and the reason", async () => {
    const { threadId, approvalId } = await atApprovalCard();

    const { response, slack } = await reject(approvalId);

    expect(response.status).toBe(200);
    expect(response.body).toBe("");
    expect(slack.isDone()).toBe(true);
    const events = await eventsOf(threadId);
    expect(events.filter((e) => e.type === "approval_rejected")).toEqual([
      expect.objectContaining({
        data: {
          approval_id: approvalId,
          by: "U01APPROVER",
          channel: "slack",
          slack_user: "U01APPROVER",
          reason: REASON,
        },
      }),
    ]);
    expect(events.filter((e) => e.type === "deployment_created")).toHaveLength(1);
  });

  it("updates the approval card in place, without buttons, naming who rejected and why", async () => {
    const { approvalId, cardTs } = await atApprovalCard();
    const calls = app.slackCalls.length;

    const { slack } = await reject(approvalId);

    expect(slack.isDone()).toBe(true);
    const updates = app.slackCalls.slice(calls).filter((c) => c.method === "chat.update");
    expect(updates).toHaveLength(1);
    const update = updates[0]!.body;
    expect(update.channel).toBe("C01DEPLOYS");
    expect(update.ts).toBe(cardTs);
    const blocks = JSON.stringify(update.blocks);
    expect(blocks).not.toContain("deploybot.approve");
    expect(blocks).not.toContain("deploybot.reject");
    expect(blocks).toContain("Rejected by <@U01APPROVER>");
    expect(blocks).toContain(REASON);
    expect(String(update.text)).toContain("Rejected");
  });

  it("gives the reason to the decision taken after the rejection", async () => {
    const { threadId, approvalId } = await atApprovalCard();

    await reject(approvalId);

    const events = await eventsOf(threadId);
    const rejected = events.find((e) => e.type === "approval_rejected")!;
    const next = events.filter((e) => e.type === "decision" && e.seq > rejected.seq);
    expect(next).toEqual([expect.objectContaining({ data: expect.objectContaining({ model: "test" }) })]);
    const asked = decider.contexts.filter((c) => c.afterRejection);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.context).toContain(REASON);
    expect(asked[0]!.context).toContain("U01APPROVER (approver) rejected deploy backend merge to production");
    expect(events.findLast((e) => e.type === "done")).toMatchObject({ data: { by: "model" } });
    expect(events.at(-1)?.type).toBe("slack_posted"); // the summary, posted after the end
  });

  it("refuses an outsider's rejection with an ephemeral and changes nothing", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    const before = await eventsOf(threadId);
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.postEphemeral": 1 });

    await app.slack("/slack/actions", rejectSubmissionBody(approvalId, "U09OUTSIDER", REASON));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(await eventsOf(threadId)).toEqual(before);
    const sent = app.slackCalls.slice(calls);
    expect(sent.map((c) => c.method)).toEqual(["usergroups.users.list", "chat.postEphemeral"]);
    const ephemeral = sent[1]!.body;
    expect(ephemeral.user).toBe("U09OUTSIDER");
    expect(ephemeral.channel).toBe("C01DEPLOYS");
    expect(String(ephemeral.text)).toContain("only the approvers of production may reject");
  });

  it("tells someone rejecting an approval already rejected that nothing changed", async () => {
    const { threadId, approvalId } = await atApprovalCard();
    await reject(approvalId);
    const before = await eventsOf(threadId);
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1 });

    await app.slack("/slack/actions", rejectSubmissionBody(approvalId, "U02RELEASER", "me too"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(await eventsOf(threadId)).toEqual(before);
    const ephemeral = app.slackCalls.at(-1)!.body;
    expect(ephemeral).toMatchObject({ channel: "C01DEPLOYS", user: "U02RELEASER" });
    expect(String(ephemeral.text)).toContain("no longer pending");
  });
});
