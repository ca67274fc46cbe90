import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import type { ThreadEvent } from "../../src/thread/events.js";
import { INSTALLATION_ID, mergedPullRequest, OLD_SHA, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_YAML,
  mockCiState,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockPullFiles,
  mockRepoConfig,
  type DeploymentBody,
  type DispatchBody,
} from "../helpers/github-mocks.js";
import {
  mockSlack,
  slackEventBody,
  slashCommandBody,
  startAppServer,
  type AppServer,
} from "../helpers/app-server.js";

/**
 * Trigger from anywhere: a mention of deploybot or `/deploybot <words>` in the channel a
 * repository uses starts the same kind of thread a merge does. It deploys the tip of the deploy
 * branch; the rules decider reads the words, and the policy judges what it proposes.
 */

const HEAD_SHA = "fedcba9876543210fedcba9876543210fedcba98";
const LIVE_SHA = "1111111111111111111111111111111111111111";
const MENTION_TS = "1700000100.000200";
const ROLLBACK_NEEDS_APPROVAL = "asks for approval of a rollback in production to the previous good version";

let app: AppServer;
afterEach(async () => app?.stop());

/** A server that knows C01DEPLOYS as acme/shop's channel, as a merge would have taught it. */
async function serverKnowingTheChannel(): Promise<AppServer> {
  app = await startAppServer();
  await app.store.setRef(
    "channel:C01DEPLOYS",
    JSON.stringify({ repo: `${OWNER}/${REPO}`, installationId: INSTALLATION_ID }),
    app.now.value,
  );
  await app.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), app.now.value);
  return app;
}

function mockBranchHead(sha = HEAD_SHA): nock.Scope {
  return nock(API)
    .get(`/repos/${OWNER}/${REPO}/branches/main`)
    .reply(200, { name: "main", commit: { sha }, protected: false });
}

/** What starting a thread from Slack reads from GitHub: config, branch head, history, CI. */
function mockThreadStart(
  options: { token?: boolean; history?: Parameters<typeof mockDeploymentHistory>[1] } = {},
): nock.Scope[] {
  return [
    ...(options.token === false ? [] : [mockInstallationToken()]),
    mockRepoConfig(CONFIG_YAML),
    mockBranchHead(),
    mockDeploymentHistory(["staging", "production"], options.history),
    mockCiState(HEAD_SHA),
  ];
}

function mention(text: string, channel = "C01DEPLOYS"): string {
  return slackEventBody({ type: "app_mention", user: "U01ASKER", text, channel, ts: MENTION_TS });
}

async function onlyThread(): Promise<{ id: string; events: ThreadEvent[] }> {
  const threads = await app.store.listThreads({});
  expect(threads).toHaveLength(1);
  return (await app.store.getThread(threads[0]!.id))!;
}

describe("a request in words from a Slack mention", () => {
  it("starts a thread whose first event is the request", async () => {
    await serverKnowingTheChannel();
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];

    expect(
      (await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging"))).status,
    ).toBe(200);
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const { events } = await onlyThread();
    expect(events[0]).toMatchObject({
      type: "chat_request",
      data: {
        text: "deploy the frontend to staging",
        slack_user: "U01ASKER",
        channel: "C01DEPLOYS",
        ts: MENTION_TS,
        source: "mention",
        installation_id: INSTALLATION_ID,
        owner: OWNER,
        repo: REPO,
      },
    });
    expect(events.slice(1, 5).map((e) => e.type)).toEqual([
      "config_loaded",
      "branch_head",
      "deployed_versions",
      "ci_state",
    ]);
    expect(events[2]).toMatchObject({ data: { branch: "main", sha: HEAD_SHA } });
    expect(events[4]).toMatchObject({ data: { sha: HEAD_SHA, state: "success" } });
  });

  it("deploys the branch head of the named component to the named environment", async () => {
    await serverKnowingTheChannel();
    const deployments: DeploymentBody[] = [];
    const dispatches: DispatchBody[] = [];
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }, deployments),
      mockDispatch("deploy-frontend.yml", 6001, dispatches),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];

    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging"));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(deployments).toEqual([
      expect.objectContaining({
        ref: HEAD_SHA,
        environment: "staging",
        auto_merge: false,
        payload: expect.objectContaining({ component: "frontend" }),
      }),
    ]);
    expect(dispatches).toEqual([
      expect.objectContaining({
        ref: "main",
        inputs: { environment: "staging", sha: HEAD_SHA, component: "frontend", deployment_id: "2001" },
      }),
    ]);
    const { events } = await onlyThread();
    expect(events.find((e) => e.type === "decision")).toMatchObject({
      data: { step: { intent: "deploy_frontend", environment: "staging", sha: HEAD_SHA } },
    });
    expect(events.find((e) => e.type === "deploy_authorized")).toMatchObject({
      data: { kind: "deploy", component: "frontend", environment: "staging", sha: HEAD_SHA },
    });
  });

  it("posts the thread's progress as replies under the mention", async () => {
    await serverKnowingTheChannel();
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];

    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging"));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(app.slackCalls).toHaveLength(1);
    const progress = app.slackCalls[0]!.body;
    expect(progress.channel).toBe("C01DEPLOYS");
    expect(progress.thread_ts).toBe(MENTION_TS);
    expect(String(progress.text)).toContain("Deploying frontend `fedcba9` to staging");
  });

  it("deploys to staging first when production is asked for", async () => {
    await serverKnowingTheChannel();
    const deployments: DeploymentBody[] = [];
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }, deployments),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];

    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to production"));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(deployments.map((d) => [d.ref, d.environment])).toEqual([[HEAD_SHA, "staging"]]);
    const { events } = await onlyThread();
    expect(events.find((e) => e.type === "decision")).toMatchObject({
      data: {
        step: {
          intent: "deploy_frontend",
          environment: "staging",
          reason: expect.stringContaining("staging comes first"),
        },
      },
    });
  });

  it("learns the channel from a merge into the repository", async () => {
    app = await startAppServer();
    const merge = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      mockPullFiles(7, ["docs/README.md"]), // nothing to deploy: the merge only teaches the channel
    ];
    await app.webhook("pull_request", mergedPullRequest());
    await app.runWorker();
    for (const scope of merge) expect(scope.isDone()).toBe(true);
    const scopes = [
      ...mockThreadStart({ token: false }),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];

    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging"));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const threads = await app.store.listThreads({});
    const requested = threads.find((t) => t.title.includes("deploy the frontend"));
    expect(requested).toMatchObject({ repo: `${OWNER}/${REPO}`, status: "waiting_for_deploy" });
  });

  it(ROLLBACK_NEEDS_APPROVAL, rollbackNeedsApproval);

  it("tells a channel that no repository uses to name owner/repo", async () => {
    app = await startAppServer();
    const slack = mockSlack(app.slackCalls, { "chat.postMessage": 1 });

    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging", "C09ELSEWHERE"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    const answer = app.slackCalls[0]!.body;
    expect(answer.channel).toBe("C09ELSEWHERE");
    expect(answer.thread_ts).toBe(MENTION_TS);
    expect(String(answer.text)).toContain("`owner/repo`");
    expect(await app.store.listThreads({})).toEqual([]);
  });
});

describe("the /deploybot command", () => {
  it("answers status at once with an ephemeral list of running threads and what each waits for", async () => {
    await serverKnowingTheChannel();
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];
    await app.slack("/slack/events", mention("<@U0BOT> deploy the frontend to staging"));
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const inbox = await app.store.inboxCounts();

    const response = await app.slack("/slack/commands", slashCommandBody("status"));

    expect(response.status).toBe(200);
    const answer = JSON.parse(response.body) as { response_type: string; text: string; blocks: unknown[] };
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.text).toBe("1 deploy in progress");
    const listed = JSON.stringify(answer.blocks);
    expect(listed).toContain("acme/shop: deploy the frontend to staging");
    expect(listed).toContain("waiting_for_deploy");
    expect(listed).toContain("waiting on deploy of frontend fedcba9 to staging (deployment 2001)");
    expect(await app.store.inboxCounts()).toEqual(inbox);
  });

  it("answers status with no running threads by saying so", async () => {
    app = await startAppServer();

    const response = await app.slack("/slack/commands", slashCommandBody("status"));

    expect(JSON.parse(response.body)).toMatchObject({
      response_type: "ephemeral",
      text: "No deploys running.",
    });
  });

  it("posts the request as a root message and starts a thread under it", async () => {
    await serverKnowingTheChannel();
    const deployments: DeploymentBody[] = [];
    const scopes = [
      ...mockThreadStart(),
      mockCreateDeployment(2001, { sha: HEAD_SHA, environment: "staging" }, deployments),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 2 }),
    ];

    const response = await app.slack(
      "/slack/commands",
      slashCommandBody("deploy the frontend to staging", { user: "U01ASKER" }),
    );
    await app.runWorker();

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: "ephemeral" });
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(deployments.map((d) => [d.ref, d.environment, d.payload.component])).toEqual([
      [HEAD_SHA, "staging", "frontend"],
    ]);
    const [root, progress] = app.slackCalls.map((c) => c.body);
    expect(root!.channel).toBe("C01DEPLOYS");
    expect(root!.thread_ts).toBeUndefined();
    expect(String(root!.text)).toBe("<@U01ASKER> asked: deploy the frontend to staging");
    const { events } = await onlyThread();
    expect(events[0]).toMatchObject({
      type: "chat_request",
      data: { source: "command", slack_user: "U01ASKER", text: "deploy the frontend to staging" },
    });
    const rootTs = events[0]!.type === "chat_request" ? events[0]!.data.ts : null;
    expect(progress!.thread_ts).toBe(rootTs);
    expect(String(progress!.text)).toContain("Deploying frontend");
  });
});

/**
 * The rollback scenario: GitHub's history shows two successful backend deploys in production, and
 * "roll back the backend in production" proposes the older one (the `previous_sha` of what is
 * deployed there), which the policy accepts and stops at an approval card.
 */
async function rollbackNeedsApproval(): Promise<void> {
  await serverKnowingTheChannel();
  const scopes = [
    ...mockThreadStart({
      history: {
        production: [
          { id: 902, sha: LIVE_SHA, component: "backend", success: true },
          { id: 901, sha: OLD_SHA, component: "backend", success: true },
        ],
      },
    }),
    mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    // The card lists the commits between what runs there now and the rollback target.
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/compare/${LIVE_SHA}...${OLD_SHA}`)
      .query(true)
      .reply(200, { total_commits: 0, commits: [] }),
  ];

  await app.slack("/slack/events", mention("<@U0BOT> roll back the backend in production"));
  await app.runWorker();

  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  const { events } = await onlyThread();
  expect(events.find((e) => e.type === "approval_requested")).toMatchObject({
    data: {
      step: { intent: "rollback", component: "backend", environment: "production", to_sha: OLD_SHA },
    },
  });
  const card = app.slackCalls[0]!.body;
  expect(card.channel).toBe("C01DEPLOYS");
  expect(String(card.text)).toContain("Approve rollback of backend to production?");
  expect(JSON.stringify(card.blocks)).toContain("deploybot.approve");
}
