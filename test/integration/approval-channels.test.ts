import { afterEach, describe, expect, it } from "vitest";
import { deriveState } from "../../src/thread/state.js";
import { MERGE_SHA, prComment } from "../helpers/fixtures.js";
import {
  CONFIG_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockIssueComment,
  mockPermission,
  mockPullRequest,
  mockReaction,
} from "../helpers/github-mocks.js";
import {
  API_TOKEN,
  clickBody,
  mockSlack,
  startAppServer,
  untilApprovalCard,
  type AppServer,
} from "../helpers/app-server.js";

/** One approval, three channels (Slack, a PR comment, the REST API): the first valid decision wins. */

const RELEASE_TOKEN = "release-token-for-tests-0123456789";
const CHANNELS_YAML = CONFIG_YAML.replace(
  "    approvers: [U01APPROVER, S01RELEASETEAM]\n",
  "    approvers: [U01APPROVER, U01OCTOCAT, S01RELEASETEAM, api:release]\n    github_approvers: [hubot, octocat]\n",
);

let app: AppServer;
afterEach(async () => app?.stop());

async function start(): Promise<{ threadId: string; approvalId: string }> {
  app = await startAppServer({
    apiTokens: new Map([
      [API_TOKEN, "ci"],
      [RELEASE_TOKEN, "release"],
    ]),
  });
  return untilApprovalCard(app, CHANNELS_YAML);
}

describe("an approval decided through the REST API", () => {
  it("runs the step for a token listed as api:<name>, and Slack and a PR comment then find it decided", async () => {
    const { threadId, approvalId } = await start();
    const github = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const slack = mockSlack(app.slackCalls, {
      "chat.update": 1,
      "chat.postMessage": 1,
      "chat.postEphemeral": 1,
    });

    const approved = await app.api(
      "POST",
      `/api/v1/threads/${threadId}/approve`,
      {},
      { token: RELEASE_TOKEN },
    );
    expect(approved.status).toBe(202);
    expect(JSON.parse(approved.body)).toMatchObject({
      thread_id: threadId,
      approval_id: approvalId,
      accepted: true,
    });
    await app.runWorker();

    // A Slack click and a PR comment after it: both refused, nothing recorded twice.
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    const replies: string[] = [];
    const comment = [
      mockPermission("hubot", "write"),
      mockReaction(900_001),
      mockPullRequest(7),
      mockIssueComment(7, replies),
    ];
    await app.webhook("issue_comment", prComment({ body: "/deploybot approve", login: "hubot" }));
    await app.runWorker();

    for (const scope of [...github, ...comment, slack]) expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.filter((e) => e.type === "approval_granted").map((e) => e.data)).toEqual([
      { approval_id: approvalId, by: "release", channel: "api", slack_user: null },
    ]);
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    const update = app.slackCalls.find((c) => c.method === "chat.update")!;
    expect(JSON.stringify(update.body.blocks)).toContain("api:release (REST API)");
    const ephemeral = app.slackCalls.find((c) => c.method === "chat.postEphemeral")!;
    expect(String(ephemeral.body.text)).toContain("already approved by api:release (REST API)");
    expect(replies[0]).toContain(
      "Refused: This approval is no longer pending: it was already approved by api:release",
    );
  });

  it("refuses a token that is not an approver with 403, and queues nothing", async () => {
    const { threadId } = await start();
    const refused = await app.api("POST", `/api/v1/threads/${threadId}/approve`, {});
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toContain("only the approvers of production may approve");
    expect(await app.runWorker()).toBe(0);
  });

  it("needs a reason to reject, and records it with the client", async () => {
    const { threadId } = await start();
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });
    const missing = await app.api("POST", `/api/v1/threads/${threadId}/reject`, {}, { token: RELEASE_TOKEN });
    expect(missing.status).toBe(400);
    const rejected = await app.api(
      "POST",
      `/api/v1/threads/${threadId}/reject`,
      { reason: "frontend first" },
      { token: RELEASE_TOKEN },
    );
    expect(rejected.status).toBe(202);
    await app.runWorker();
    expect(slack.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.find((e) => e.type === "approval_rejected")?.data).toMatchObject({
      by: "release",
      channel: "api",
      reason: "frontend first",
    });
  });

  it("gives the first answer again for a repeated Idempotency-Key, and 409 once nothing waits", async () => {
    const { threadId } = await start();
    const github = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });
    const keyed = { token: RELEASE_TOKEN, headers: { "idempotency-key": "approve-1" } };
    const first = await app.api("POST", `/api/v1/threads/${threadId}/approve`, {}, keyed);
    await app.runWorker();
    const again = await app.api("POST", `/api/v1/threads/${threadId}/approve`, {}, keyed);
    expect(again.status).toBe(first.status);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    const unkeyed = await app.api(
      "POST",
      `/api/v1/threads/${threadId}/approve`,
      {},
      { token: RELEASE_TOKEN },
    );
    expect(unkeyed.status).toBe(409);
    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
  });
});

describe("the pull request's author", () => {
  it("is refused on Slack, in a PR comment and (as no person) cannot be an API token", async () => {
    const { threadId, approvalId } = await start();
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.postEphemeral": 1 });
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01OCTOCAT"));
    const replies: string[] = [];
    const comment = [
      mockPermission("octocat", "admin"),
      mockReaction(900_001),
      mockPullRequest(7),
      mockIssueComment(7, replies),
    ];
    await app.webhook("issue_comment", prComment({ body: "/deploybot approve", login: "octocat" }));
    await app.runWorker();

    for (const scope of [...comment, slack]) expect(scope.isDone()).toBe(true);
    expect(String(app.slackCalls.at(-1)!.body.text)).toContain("you authored this pull request");
    expect(replies[0]).toContain("you authored this pull request");
    const thread = (await app.store.getThread(threadId))!;
    expect(deriveState(thread.events).status).toBe("waiting_for_approval");
  });
});
