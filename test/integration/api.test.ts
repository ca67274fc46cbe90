import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
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
  mockCiState,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockMergeContext,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { API_TOKEN, startAppServer, type AppServer } from "../helpers/app-server.js";
import { escapeHtml } from "../../src/http/dashboard-routes.js";
import { httpRequest } from "../helpers/http.js";

/** The REST API through a real server: read, launch, pause, resume, cancel, answer. */

const MERGED = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const HEAD = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
let app: AppServer;
afterEach(async () => app?.stop());

/** A repository without Slack: a merge deploys staging and waits for its result. */
async function mergeWaitingForStaging() {
  app = await startAppServer();
  const config = CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");
  const scopes = [
    ...mockMergeContext({ config }),
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
    mockDispatch("deploy-backend.yml", 5001),
  ];
  await app.webhook("pull_request", mergedPullRequest());
  await app.runWorker();
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  return config;
}

describe("reading threads through the REST API", () => {
  it("lists threads by status and shows one with its events and a markdown summary", async () => {
    await mergeWaitingForStaging();

    const list = await app.api("GET", "/api/v1/threads?status=waiting_for_deploy");
    const one = await app.api("GET", `/api/v1/threads/${MERGED}`);

    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).threads).toEqual([
      expect.objectContaining({ id: MERGED, status: "waiting_for_deploy", repo: `${OWNER}/${REPO}` }),
    ]);
    const body = JSON.parse(one.body);
    expect(body.thread.waitingOn).toContain("deployment 1001");
    expect(body.events.map((e: { type: string }) => e.type)).toContain("deploy_dispatched");
    expect(body.markdown).toContain("#7");
  });

  it("refuses calls without a known token", async () => {
    app = await startAppServer();
    expect((await app.api("GET", "/api/v1/threads", undefined, { token: null })).status).toBe(401);
    expect(
      (await app.api("GET", "/api/v1/threads", undefined, { token: "wrong-token-0123456789" })).status,
    ).toBe(401);
  });

  it("is off, saying how to turn it on, when no token is configured", async () => {
    app = await startAppServer({ apiTokens: new Map() });
    const response = await app.api("GET", "/api/v1/threads");
    expect(response.status).toBe(503);
    expect(response.body).toContain("DEPLOYBOT_API_TOKENS");
  });

  it("answers clear 4xx for unknown threads, statuses and bad bodies", async () => {
    app = await startAppServer();
    expect((await app.api("GET", "/api/v1/threads/th_nope")).status).toBe(404);
    expect((await app.api("GET", "/api/v1/threads?status=sleeping")).status).toBe(400);
    expect((await app.api("POST", "/api/v1/threads", { repo: "not a repo", text: "x" })).status).toBe(400);
    expect((await app.api("POST", "/api/v1/threads", { repo: "acme/unknown", text: "deploy" })).status).toBe(
      404,
    );
    expect((await app.api("DELETE", "/api/v1/threads")).status).toBe(405);
    expect(await app.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  });
});

describe("controlling a thread through the REST API", () => {
  it("pauses a thread: the running deploy is recorded, but nothing new starts until it resumes", async () => {
    await mergeWaitingForStaging();

    expect((await app.api("POST", `/api/v1/threads/${MERGED}/pause`, { reason: "freeze" })).status).toBe(202);
    await app.runWorker();
    await app.webhook("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    await app.runWorker();

    const paused = await app.store.getThreadSummary(MERGED);
    expect(paused?.status).toBe("paused");
    expect(paused?.waitingOn).toBe("a resume (paused by api:ci)");
    expect((await app.api("POST", `/api/v1/threads/${MERGED}/pause`)).status).toBe(409);

    const production = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    expect((await app.api("POST", `/api/v1/threads/${MERGED}/resume`)).status).toBe(202);
    await app.runWorker();

    for (const scope of production) expect(scope.isDone()).toBe(true);
    expect((await app.store.getThreadSummary(MERGED))?.status).toBe("waiting_for_deploy");
  });

  it("cancels a thread, and refuses to control it afterwards", async () => {
    await mergeWaitingForStaging();

    expect((await app.api("POST", `/api/v1/threads/${MERGED}/cancel`, { reason: "wrong PR" })).status).toBe(
      202,
    );
    await app.runWorker();

    expect((await app.store.getThreadSummary(MERGED))?.status).toBe("cancelled");
    expect((await app.api("POST", `/api/v1/threads/${MERGED}/resume`)).status).toBe(409);
  });

  it("does a retried call once when it carries an Idempotency-Key", async () => {
    await mergeWaitingForStaging();
    const headers = { "idempotency-key": "pause-1" };

    await app.api("POST", `/api/v1/threads/${MERGED}/pause`, {}, { headers });
    await app.api("POST", `/api/v1/threads/${MERGED}/pause`, {}, { headers });
    await app.runWorker();

    const events = (await app.store.getThread(MERGED))!.events;
    expect(events.filter((e) => e.type === "paused")).toHaveLength(1);
    expect(await app.store.inboxCounts()).toMatchObject({ done: 2 });
  });
});

describe("launching a thread through the REST API", () => {
  it("turns words into a policy-checked deploy of the deploy branch's tip", async () => {
    app = await startAppServer();
    await app.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), new Date());
    const config = CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(config),
      nock(API)
        .get(`/repos/${OWNER}/${REPO}/branches/main`)
        .reply(200, { name: "main", commit: { sha: HEAD } }),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(HEAD),
      mockCreateDeployment(1010, { sha: HEAD, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 5010),
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
    expect(thread.events[0]).toMatchObject({
      type: "chat_request",
      data: { source: "api", requested_by: "ci" },
    });
    expect((await app.store.getThreadSummary(threadId))?.status).toBe("waiting_for_deploy");
  });

  it("records why nothing happened when the repository's config is missing", async () => {
    app = await startAppServer();
    await app.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), new Date());
    const scopes = [mockInstallationToken(), mockRepoConfig(null)];

    const response = await app.api("POST", "/api/v1/threads", { repo: `${OWNER}/${REPO}`, text: "deploy" });
    const { thread_id: threadId } = JSON.parse(response.body) as { thread_id: string };
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = await app.api("GET", `/api/v1/threads/${threadId}`);
    expect(JSON.parse(thread.body).thread.status).toBe("failed");
    expect(thread.body).toContain("has no .github/deploybot.yml");
  });

  it("takes an answer to the thread's question and goes on with it", async () => {
    app = await startAppServer();
    await app.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), new Date());
    const config = CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(config),
      nock(API)
        .get(`/repos/${OWNER}/${REPO}/branches/main`)
        .reply(200, { name: "main", commit: { sha: HEAD } }),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(HEAD),
    ];
    const launched = await app.api("POST", "/api/v1/threads", {
      repo: `${OWNER}/${REPO}`,
      text: "ship it please",
    });
    const { thread_id: threadId } = JSON.parse(launched.body) as { thread_id: string };
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect((await app.store.getThreadSummary(threadId))?.status).toBe("waiting_for_human");
    const deploy = [
      mockCreateDeployment(1011, { sha: HEAD, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5011),
    ];

    const answered = await app.api("POST", `/api/v1/threads/${threadId}/answer`, {
      answer: "deploy the backend to staging",
    });
    await app.runWorker();

    expect(answered.status).toBe(202);
    for (const scope of deploy) expect(scope.isDone()).toBe(true);
    const events = (await app.store.getThread(threadId))!.events;
    expect(events.find((e) => e.type === "human_answered")?.data).toEqual({
      answer: "deploy the backend to staging",
      slack_user: null,
    });
    expect((await app.api("POST", `/api/v1/threads/${threadId}/answer`, { answer: "again" })).status).toBe(
      409,
    );
  });
});

describe("the OpenAPI description", () => {
  it("documents every route and method the API serves", async () => {
    const { parse } = await import("yaml");
    const { readFileSync } = await import("node:fs");
    const spec = parse(readFileSync("docs/openapi.yaml", "utf8")) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      [
        "GET /api/v1/threads",
        "POST /api/v1/threads",
        "GET /api/v1/threads/{id}",
        "POST /api/v1/threads/{id}/pause",
        "POST /api/v1/threads/{id}/resume",
        "POST /api/v1/threads/{id}/cancel",
        "POST /api/v1/threads/{id}/answer",
        "POST /api/v1/threads/{id}/approve",
        "POST /api/v1/threads/{id}/reject",
      ].sort(),
    );
  });
});

describe("the metrics endpoint", () => {
  it("reports threads by status, the inbox and running deploys in Prometheus' text format", async () => {
    await mergeWaitingForStaging();

    const response = await httpRequest(`${app.base}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    expect(response.body).toContain('deploybot_threads{status="waiting_for_deploy"} 1');
    expect(response.body).toContain('deploybot_threads{status="done"} 0');
    expect(response.body).toContain('deploybot_inbox_entries{state="done"} 1');
    expect(response.body).toContain("deploybot_running_deploys 1");
    expect(response.body).toMatch(/^# TYPE deploybot_threads gauge$/m);
  });
});

describe("the dashboard", () => {
  const basic = (token: string) => ({
    authorization: `Basic ${Buffer.from(`me:${token}`).toString("base64")}`,
  });

  it("lists threads and shows one, escaped, to someone signed in with an API token", async () => {
    await mergeWaitingForStaging();

    const list = await httpRequest(`${app.base}/threads`, { headers: basic(API_TOKEN) });
    const one = await httpRequest(`${app.base}/threads/${MERGED}`, { headers: basic(API_TOKEN) });

    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/threads/${MERGED}"`);
    expect(list.body).toContain("waiting_for_deploy");
    expect(one.status).toBe(200);
    expect(one.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(one.body).toContain("deployment 1001");
  });

  it("asks for a sign-in without a valid token", async () => {
    app = await startAppServer();
    const response = await httpRequest(`${app.base}/threads`, { headers: basic("not-a-token-0123456789") });
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toContain("Basic");
  });

  it("escapes what a pull request's author wrote", async () => {
    expect(escapeHtml(`<script>alert("x")</script>`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
    );
  });
});
