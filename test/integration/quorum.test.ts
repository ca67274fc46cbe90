import { afterEach, describe, expect, it } from "vitest";
import { createSignInToken } from "../../src/http/dashboard-auth.js";
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
  clickBody,
  mockSlack,
  startAppServer,
  untilApprovalCard,
  type AppServer,
} from "../helpers/app-server.js";
import { csrfOf, get, post } from "../dashboard/dashboard-helpers.js";

/** Two distinct approvers, counted across channels: one Slack click and one PR comment. */

const QUORUM_YAML = CONFIG_YAML.replace(
  "    approvers: [U01APPROVER, S01RELEASETEAM]\n",
  "    approvers: [U01APPROVER, U02HUBOT, S01RELEASETEAM]\n    github_approvers: [hubot, monalisa]\n    approvals_required: 2\n",
).replace("  octocat: U01OCTOCAT\n", "  octocat: U01OCTOCAT\n  hubot: U02HUBOT\n");

let app: AppServer;
afterEach(async () => app?.stop());

function approveInComment(login: string, replies: string[]) {
  return [
    mockPermission(login, "write"),
    mockReaction(900_001),
    mockPullRequest(7),
    mockIssueComment(7, replies),
  ];
}

describe("an approval that needs two approvers", () => {
  it("deploys after a Slack click and a PR comment by another person, the card counting in place", async () => {
    app = await startAppServer();
    const { threadId, approvalId } = await untilApprovalCard(app, QUORUM_YAML);
    const progress = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1 });
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.runWorker();
    expect(progress.isDone()).toBe(true);
    const card = JSON.stringify(app.slackCalls.at(-1)!.body.blocks);
    expect(card).toContain("1 of 2 approvals: <@U01APPROVER>");
    expect(card).toContain("deploybot.approve"); // still open
    const api = JSON.parse((await app.api("GET", `/api/v1/threads/${threadId}`)).body);
    expect(api.approvals).toEqual({
      approval_id: approvalId,
      pending: true,
      approvals_required: 2,
      approvals: 1,
      approved_by: ["U01APPROVER"],
    });

    const replies: string[] = [];
    const github = [
      ...approveInComment("monalisa", replies),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });
    await app.webhook("issue_comment", prComment({ body: "/deploybot approve", login: "monalisa" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.filter((e) => e.type === "approval_granted").map((e) => e.data.by)).toEqual([
      "U01APPROVER",
      "monalisa",
    ]);
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    const decided = app.slackCalls.find(
      (c) => c.method === "chat.update" && !JSON.stringify(c.body.blocks).includes("deploybot.approve"),
    );
    expect(JSON.stringify(decided?.body.blocks)).toContain(
      "2 of 2 approvals: <@U01APPROVER>, monalisa (GitHub)",
    );
    expect(replies[0]).toContain("Approved.");
  });

  it("counts one person once, though they approve on Slack and in a PR comment", async () => {
    app = await startAppServer();
    const { threadId, approvalId } = await untilApprovalCard(app, QUORUM_YAML);
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1 });
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U02HUBOT"));
    await app.runWorker();
    const replies: string[] = [];
    const github = approveInComment("hubot", replies);
    await app.webhook("issue_comment", prComment({ body: "/deploybot approve", login: "hubot" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("You already approved this (1 of 2 approvals)");
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.filter((e) => e.type === "approval_granted")).toHaveLength(1);
    expect(deriveState(thread.events).status).toBe("waiting_for_approval");
  });

  it("refuses the pull request's author and counts nothing", async () => {
    app = await startAppServer();
    const { threadId } = await untilApprovalCard(
      app,
      QUORUM_YAML.replace("[hubot, monalisa]", "[hubot, monalisa, octocat]"),
    );
    const replies: string[] = [];
    const github = [
      mockPermission("octocat", "admin"),
      mockReaction(900_001),
      mockPullRequest(7),
      mockIssueComment(7, replies),
    ];
    await app.webhook("issue_comment", prComment({ body: "/deploybot approve", login: "octocat" }));
    await app.runWorker();

    for (const scope of github) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("you authored this pull request");
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.some((e) => e.type === "approval_granted")).toBe(false);
  });
});

describe("an approval that needs two approvers, one of them on the dashboard", () => {
  it("deploys after a Slack click and the dashboard's Approve button of a signed-in approver", async () => {
    app = await startAppServer();
    const config = QUORUM_YAML.replace("[U01APPROVER, U02HUBOT,", "[U01APPROVER, api:oncall, U02HUBOT,");
    const { threadId, approvalId } = await untilApprovalCard(app, config);
    const first = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1 });
    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"));
    await app.runWorker();
    expect(first.isDone()).toBe(true);

    const signIn = await get(
      app.base,
      `/threads/sign-in?token=${await createSignInToken(app.store, "oncall", app.now.value)}`,
      {},
    );
    const cookie = String(signIn.headers["set-cookie"]).split(";")[0]!;
    const page = await get(app.base, `/threads/${threadId}`, { cookie });
    expect(page.body).toContain("1 of 2 approvals");
    const github = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const slack = mockSlack(app.slackCalls, { "chat.update": 1, "chat.postMessage": 1 });
    const approved = await post(
      app.base,
      `/threads/${threadId}/approve`,
      { csrf: csrfOf(page.body) },
      { cookie },
    );
    expect(approved.status).toBe(303);
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    const granted = thread.events.filter((e) => e.type === "approval_granted").map((e) => e.data);
    expect(granted).toMatchObject([
      { by: "U01APPROVER", channel: "slack" },
      { by: "oncall", channel: "dashboard" },
    ]);
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    const decided = app.slackCalls.find(
      (c) => c.method === "chat.update" && !JSON.stringify(c.body.blocks).includes("deploybot.approve"),
    );
    expect(JSON.stringify(decided?.body.blocks)).toContain(
      "2 of 2 approvals: <@U01APPROVER>, api:oncall (dashboard)",
    );
  });
});
