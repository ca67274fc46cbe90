import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { deriveState } from "../../src/thread/state.js";
import { OWNER, prComment, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockInstallationToken,
  mockIssueComment,
  mockPermission,
  mockReaction,
  mockRepoConfig,
  mockRequestContext,
} from "../helpers/github-mocks.js";
import { mockSlack, startAppServer, type AppServer } from "../helpers/app-server.js";

/** Break-glass from a PR comment: a listed person deploys without approval, loudly, with a reason. */

const HEAD = "fedcba9876543210fedcba9876543210fedcba98";
const BREAK_GLASS_YAML = CONFIG_YAML.replace(
  "    approval_expires_after: 24h\n",
  "    break_glass: [hubot]\n    approval_expires_after: 24h\n",
);

let app: AppServer;
afterEach(async () => app?.stop());

/** Staging already runs HEAD, so production is next. */
const requestContext = () =>
  mockRequestContext(BREAK_GLASS_YAML, HEAD, {
    staging: [{ id: 900, sha: HEAD, component: "backend", success: true }],
  });

describe("a deploy with --break-glass in a pull request comment", () => {
  it("runs without approval for a listed person, and says so loudly in Slack and on the thread", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const github = [
      mockInstallationToken(),
      mockPermission("hubot", "write"),
      mockReaction(900_001),
      ...requestContext(),
      mockCreateDeployment(1010, { sha: HEAD, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5010),
      mockIssueComment(7, replies),
    ];
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 3 });
    const body = '/deploybot deploy backend to production --break-glass "checkout is down"';
    await app.webhook("issue_comment", prComment({ body, login: "hubot" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const [summary] = await app.store.listThreads({});
    const thread = (await app.store.getThread(summary!.id))!;
    expect(thread.events.some((e) => e.type === "approval_requested")).toBe(false);
    expect(thread.events.find((e) => e.type === "break_glass_used")?.data).toMatchObject({
      by: "hubot",
      channel: "github",
      reason: "checkout is down",
      skipped: ["approval"],
    });
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    const loud = app.slackCalls.find((c) => String(c.body.text).includes(":rotating_light:"));
    expect(String(loud?.body.text)).toContain("Break-glass* by hubot (github)");
    expect(String(loud?.body.text)).toContain("checkout is down");
    expect(replies[0]).toContain("Started thread");
  });

  it("is refused with the usage when the reason is missing, and nothing starts", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const github = [
      mockInstallationToken(),
      mockPermission("hubot", "write"),
      mockReaction(900_001),
      mockIssueComment(7, replies),
    ];
    await app.webhook(
      "issue_comment",
      prComment({ body: "/deploybot deploy backend to production --break-glass", login: "hubot" }),
    );
    await app.runWorker();

    for (const scope of github) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("break-glass needs a reason");
    expect(replies[0]).toContain('--break-glass "<reason>"');
    expect(await app.store.listThreads({})).toEqual([]);
  });

  it("is refused for a person not listed in break_glass, and nothing is deployed", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const github = [
      mockInstallationToken(),
      mockPermission("monalisa", "write"),
      mockReaction(900_001),
      mockRepoConfig(BREAK_GLASS_YAML),
      mockIssueComment(7, replies),
    ];
    const body = '/deploybot deploy backend to production --break-glass "checkout is down"';
    await app.webhook("issue_comment", prComment({ body, login: "monalisa" }));
    await app.runWorker();

    for (const scope of github) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain(
      "Nothing started: monalisa may not break glass in production (break_glass: hubot)",
    );
    expect(await app.store.listThreads({})).toEqual([]);
  });
});

describe("the pull request's deploybot comment after a break-glass deploy", () => {
  it("lists the break-glass loudly: who, the step, what it skipped and why", async () => {
    app = await startAppServer({ prComments: true });
    const comments: string[] = []; // deploybot's status comment and its reply to the command
    const github = [
      mockInstallationToken(),
      mockPermission("hubot", "write"),
      mockReaction(900_001),
      ...requestContext(),
      nock(API)
        .get(`/repos/${OWNER}/${REPO}/commits/${HEAD}/pulls`)
        .query({ per_page: "10" })
        .reply(200, [
          {
            number: 7,
            merged_at: "2026-11-24T11:00:00Z",
            user: { login: "octocat" },
            html_url: `https://github.com/${OWNER}/${REPO}/pull/7`,
          },
        ]),
      mockCreateDeployment(1010, { sha: HEAD, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5010),
      mockIssueComment(7, comments, 77),
      mockIssueComment(7, comments),
    ];
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 3 });
    const body = '/deploybot deploy backend to production --break-glass "checkout is down"';
    await app.webhook("issue_comment", prComment({ body, login: "hubot" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const status = comments.find((c) => c.includes("<!-- deploybot:thread="));
    expect(comments.some((c) => c.includes("Started thread"))).toBe(true);
    expect(status).toContain(
      "🚨 **Break-glass** by hubot (GitHub): deploy backend fedcba9 to production without approval. Reason: checkout is down",
    );
  });
});
