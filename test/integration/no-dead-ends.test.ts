import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deploymentStatus,
  INSTALLATION_ID,
  MERGE_SHA,
  mergedPullRequest,
  OWNER,
  REPO,
} from "../helpers/fixtures.js";
import {
  API,
  CONFIG_NO_APPROVAL_YAML,
  CONFIG_YAML,
  mockCiState,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockIssueComment,
  mockMergeContext,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { mockSlack, slackEventBody, startAppServer, type AppServer } from "../helpers/app-server.js";
import { createHarness } from "../helpers/harness.js";

/** A thread never waits silently, and can start wherever the app is installed. */

const HEAD = "fedcba9876543210fedcba9876543210fedcba98";
const repoPath = `/repos/${OWNER}/${REPO}`;
let app: AppServer | undefined;
afterEach(async () => app?.stop());

function mockRepoInstallation(repo: string, id: number | null): nock.Scope {
  return nock(API)
    .get(`/repos/${repo}/installation`)
    .reply(
      id === null ? 404 : 200,
      id === null ? { message: "Not Found" } : { id, account: { login: OWNER } },
    );
}

describe("a thread started through the REST API", () => {
  it("starts for a repository never merged into, found through the app's installation, and comments on the PR of its commit", async () => {
    app = await startAppServer({ lookUpInstallations: true, prComments: true });
    const config = CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");
    const bodies: string[] = [];
    const scopes = [
      mockRepoInstallation(`${OWNER}/${REPO}`, INSTALLATION_ID),
      mockInstallationToken(),
      mockRepoConfig(config),
      nock(API)
        .get(`${repoPath}/branches/main`)
        .reply(200, { name: "main", commit: { sha: HEAD } }),
      nock(API)
        .get(`${repoPath}/commits/${HEAD}/pulls`)
        .query({ per_page: "10" })
        .reply(200, [
          {
            number: 12,
            merged_at: "2026-11-24T11:00:00Z",
            user: { login: "monalisa" },
            html_url: `https://github.com/${OWNER}/${REPO}/pull/12`,
          },
        ]),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(HEAD),
      mockCreateDeployment(1010, { sha: HEAD, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 5010),
      mockIssueComment(12, bodies),
    ];

    const response = await app.api("POST", "/api/v1/threads", {
      repo: `${OWNER}/${REPO}`,
      text: "deploy the frontend to staging",
    });
    expect(response.status).toBe(202);
    const { thread_id: threadId } = JSON.parse(response.body) as { thread_id: string };
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    expect(thread.events.find((e) => e.type === "pr_found")?.data).toMatchObject({
      number: 12,
      author: "monalisa",
    });
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain(`<!-- deploybot:thread=${threadId} -->`);
    expect(bodies[0]).toContain("asked for: deploy the frontend to staging");
    expect(bodies[0]).toContain("🚀 deploying");
    expect(await app.store.getRef(`repo:${OWNER}/${REPO}`)).toBe(String(INSTALLATION_ID));
  });

  it("fails with the reason when the app is not installed on the repository", async () => {
    app = await startAppServer({ lookUpInstallations: true });
    const scope = mockRepoInstallation(`${OWNER}/elsewhere`, null);

    const response = await app.api("POST", "/api/v1/threads", { repo: `${OWNER}/elsewhere`, text: "deploy" });
    expect(response.status).toBe(202);
    const { thread_id: threadId } = JSON.parse(response.body) as { thread_id: string };
    await app.runWorker();

    expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(threadId))!;
    const state = deriveState(thread.events);
    expect(state.status).toBe("failed");
    expect(state.terminal?.type === "failed" && state.terminal.data.reason).toContain(
      `deploybot is not installed on ${OWNER}/elsewhere`,
    );
  });
});

describe("a Slack request naming a repository deploybot has not seen", () => {
  it("finds it through the app's installation and starts the thread", async () => {
    app = await startAppServer({ lookUpInstallations: true });
    const scopes = [
      mockRepoInstallation(`${OWNER}/${REPO}`, INSTALLATION_ID),
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      nock(API)
        .get(`${repoPath}/branches/main`)
        .reply(200, { name: "main", commit: { sha: HEAD } }),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(HEAD),
      mockCreateDeployment(2001, { sha: HEAD, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 6001),
      mockSlack(app.slackCalls, { "chat.postMessage": 1 }),
    ];
    const mention = slackEventBody({
      type: "app_mention",
      user: "U01ASKER",
      text: `<@U0BOT> deploy the frontend of ${OWNER}/${REPO} to staging`,
      channel: "C09ELSEWHERE",
      ts: "1700000100.000100",
    });
    expect((await app.slack("/slack/events", mention)).status).toBe(200);
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const [summary] = await app.store.listThreads({});
    expect(summary).toMatchObject({ repo: `${OWNER}/${REPO}`, installationId: INSTALLATION_ID });
    expect(summary?.status).toBe("waiting_for_deploy");
  });
});

describe("an approval nobody can give", () => {
  it("fails the thread at once and says so on the pull request", async () => {
    const harness = await createHarness({ prComments: true }); // Slack approvers only, and no Slack
    const bodies: string[] = [];
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      mockIssueComment(7, bodies, 77),
      nock(API)
        .patch(`${repoPath}/issues/comments/77`, (body: { body: string }) => {
          bodies.push(body.body);
          return true;
        })
        .reply(200, { id: 77 }),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    expect(deriveState(thread.events).status).toBe("failed");
    expect(bodies.at(-1)).toContain(
      "**Failed:** production needs an approval, but no approver can be reached",
    );
    expect(bodies.at(-1)).toContain("add github\\_approvers to production");
  });
});
