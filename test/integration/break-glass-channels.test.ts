import { afterEach, describe, expect, it } from "vitest";
import type { Thread } from "../../src/thread/events.js";
import { deriveState } from "../../src/thread/state.js";
import { INSTALLATION_ID, OWNER, REPO } from "../helpers/fixtures.js";
import {
  CONFIG_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockInstallationToken,
  mockRepoConfig,
  mockRequestContext,
} from "../helpers/github-mocks.js";
import { mockSlack, slashCommandBody, startAppServer, type AppServer } from "../helpers/app-server.js";

/**
 * Break-glass from Slack's `/deploybot` and from the REST API: a listed Slack user or token deploys
 * production without approval, recorded with its channel and told loudly; anyone else is refused.
 */

const FULL = `${OWNER}/${REPO}`;
const HEAD = "fedcba9876543210fedcba9876543210fedcba98";
const BREAK_GLASS_YAML = CONFIG_YAML.replace(
  "    approval_expires_after: 24h\n",
  "    break_glass: [U01ONCALL, api:ci]\n    approval_expires_after: 24h\n",
);
const DEPLOY = 'deploy backend to production --break-glass "checkout is down"';

let app: AppServer;
afterEach(async () => app?.stop());

/** A server that knows C01DEPLOYS as acme/shop's channel, as a merge would have taught it. */
async function serverKnowingTheRepository(apiTokens?: Map<string, string>): Promise<AppServer> {
  app = await startAppServer(apiTokens ? { apiTokens } : {});
  await app.store.setRef(`repo:${FULL}`, String(INSTALLATION_ID), app.now.value);
  await app.store.setRef(
    "channel:C01DEPLOYS",
    JSON.stringify({ repo: FULL, installationId: INSTALLATION_ID }),
    app.now.value,
  );
  return app;
}

/** Staging already runs HEAD, so a request for production deploys production, without approval. */
function productionDeploy() {
  return [
    mockInstallationToken(),
    ...mockRequestContext(BREAK_GLASS_YAML, HEAD, {
      staging: [{ id: 900, sha: HEAD, component: "backend", success: true }],
    }),
    mockCreateDeployment(1010, { sha: HEAD, environment: "production" }),
    mockDispatch("deploy-backend.yml", 5010),
  ];
}

async function onlyThread(): Promise<Thread> {
  const threads = await app.store.listThreads({});
  expect(threads).toHaveLength(1);
  return (await app.store.getThread(threads[0]!.id))!;
}

function loudMessage(): string {
  const loud = app.slackCalls.find((c) => String(c.body.text).includes(":rotating_light:"));
  return String(loud?.body.text);
}

describe("a break-glass with Slack's /deploybot", () => {
  it("deploys production without approval for a listed Slack user, and says so loudly in the channel", async () => {
    app = await serverKnowingTheRepository();
    const github = productionDeploy();
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 3 });
    const answered = await app.slack("/slack/commands", slashCommandBody(DEPLOY, { user: "U01ONCALL" }));
    expect(JSON.parse(answered.body)).toMatchObject({ response_type: "ephemeral" });
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const thread = await onlyThread();
    expect(thread.events.some((e) => e.type === "approval_requested")).toBe(false);
    expect(thread.events.find((e) => e.type === "break_glass_used")?.data).toMatchObject({
      by: "U01ONCALL",
      channel: "slack",
      reason: "checkout is down",
      skipped: ["approval"],
    });
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    expect(loudMessage()).toContain("Break-glass* by <@U01ONCALL> (slack)");
    expect(loudMessage()).toContain("checkout is down");
    expect(app.slackCalls.find((c) => c.body.text === loudMessage())?.body.channel).toBe("C01DEPLOYS");
  });

  it("names the repository first when asked so, as a pull request comment would not need to", async () => {
    app = await serverKnowingTheRepository();
    const github = productionDeploy();
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 3 });
    const text = `${FULL} ${DEPLOY}`;
    await app.slack("/slack/commands", slashCommandBody(text, { user: "U01ONCALL", channel: "C09OTHER" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const thread = await onlyThread();
    expect(thread.repo).toBe(FULL);
    expect(thread.events.some((e) => e.type === "break_glass_used")).toBe(true);
  });

  it("refuses a Slack user not listed in break_glass with an ephemeral message, and starts nothing", async () => {
    app = await serverKnowingTheRepository();
    const github = [mockInstallationToken(), mockRepoConfig(BREAK_GLASS_YAML)];
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1 });
    await app.slack("/slack/commands", slashCommandBody(DEPLOY, { user: "U09STRANGER" }));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    expect(app.slackCalls).toEqual([
      {
        method: "chat.postEphemeral",
        body: expect.objectContaining({
          user: "U09STRANGER",
          text: expect.stringContaining(
            "U09STRANGER may not break glass in production (break_glass: U01ONCALL, api:ci)",
          ),
        }),
      },
    ]);
    expect(await app.store.listThreads({})).toEqual([]);
  });

  it("refuses a break-glass without a reason with the usage, and starts nothing", async () => {
    app = await serverKnowingTheRepository();
    const slack = mockSlack(app.slackCalls, { "chat.postEphemeral": 1 });
    const text = "deploy backend to production --break-glass";
    await app.slack("/slack/commands", slashCommandBody(text, { user: "U01ONCALL" }));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect(app.slackCalls[0]?.body.user).toBe("U01ONCALL");
    expect(app.slackCalls[0]?.body.text).toContain("break-glass needs a reason");
    expect(app.slackCalls[0]?.body.text).toContain('--break-glass "&lt;reason&gt;"'); // Slack shows <reason>
    expect(await app.store.listThreads({})).toEqual([]);
  });
});

describe("a break-glass through the REST API", () => {
  it("deploys production without approval for a token listed as api:<name>, and the thread view shows it", async () => {
    app = await serverKnowingTheRepository();
    const github = productionDeploy();
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 3 });
    const launched = await app.api("POST", "/api/v1/threads", {
      repo: FULL,
      text: "deploy backend to production",
      break_glass: { reason: "checkout is down", environment: "production" },
    });
    expect(launched.status).toBe(202);
    const { thread_id: threadId } = JSON.parse(launched.body) as { thread_id: string };
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const view = await app.api("GET", `/api/v1/threads/${threadId}`);
    const { events, markdown } = JSON.parse(view.body) as {
      events: Thread["events"];
      markdown: string;
    };
    expect(events.some((e) => e.type === "approval_requested")).toBe(false);
    expect(events.find((e) => e.type === "break_glass_used")?.data).toMatchObject({
      by: "ci",
      channel: "api",
      reason: "checkout is down",
      skipped: ["approval"],
    });
    expect(markdown).toContain("checkout is down");
    expect(deriveState(events).status).toBe("waiting_for_deploy");
    expect(loudMessage()).toContain("checkout is down");
  });

  it("refuses a break-glass without a reason with a 400, and queues nothing", async () => {
    app = await serverKnowingTheRepository();
    const launched = await app.api("POST", "/api/v1/threads", {
      repo: FULL,
      text: "deploy backend to production",
      break_glass: { reason: " " },
    });
    expect(launched.status).toBe(400);
    expect(JSON.parse(launched.body).error).toContain("break-glass needs a reason");
    expect(await app.runWorker()).toBe(0);
  });

  it("fails the launched thread with the refusal for a token not listed, and deploys nothing", async () => {
    app = await serverKnowingTheRepository(new Map([["deploy-token-for-tests-0123", "deployer"]]));
    const github = [mockInstallationToken(), mockRepoConfig(BREAK_GLASS_YAML)];
    const launched = await app.api(
      "POST",
      "/api/v1/threads",
      { repo: FULL, text: "deploy backend to production", break_glass: { reason: "checkout is down" } },
      { token: "deploy-token-for-tests-0123" },
    );
    expect(launched.status).toBe(202);
    const { thread_id: threadId } = JSON.parse(launched.body) as { thread_id: string };
    await app.runWorker();

    for (const scope of github) expect(scope.isDone()).toBe(true);
    const view = JSON.parse(
      (
        await app.api("GET", `/api/v1/threads/${threadId}`, undefined, {
          token: "deploy-token-for-tests-0123",
        })
      ).body,
    ) as { thread: { status: string }; events: Thread["events"] };
    expect(view.thread.status).toBe("failed");
    expect(view.events.find((e) => e.type === "failed")?.data).toEqual({
      reason: expect.stringContaining(
        "deployer may not break glass in production (break_glass: U01ONCALL, api:ci). Nothing was deployed.",
      ),
    });
    expect(view.events.some((e) => e.type === "deploy_authorized")).toBe(false);
  });
});
