import { afterEach, describe, expect, it } from "vitest";
import { INSTALLATION_ID, OWNER, REPO } from "../helpers/fixtures.js";
import {
  CONFIG_YAML,
  mockInstallationToken,
  mockPermission,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { mockSlack, slashCommandBody, startAppServer, type AppServer } from "../helpers/app-server.js";
import { basic, putThread } from "../dashboard/dashboard-helpers.js";
import { httpRequest } from "../helpers/http.js";
import { mergeStart } from "../helpers/thread-builder.js";

/**
 * Locks from Slack's `/deploybot`, the REST API and the dashboard: who may, what each answers, and
 * the mistakes each refuses with a clear answer.
 */

const FULL = `${OWNER}/${REPO}`;

let app: AppServer;
afterEach(async () => app?.stop());

/** A server that has seen acme/shop (a merge taught it the installation, the channel and the config). */
async function serverKnowingTheRepository(): Promise<AppServer> {
  app = await startAppServer();
  const at = app.now.value;
  await app.store.setRef(`repo:${FULL}`, String(INSTALLATION_ID), at);
  await app.store.setRef(
    "channel:C01DEPLOYS",
    JSON.stringify({ repo: FULL, installationId: INSTALLATION_ID }),
    at,
  );
  await putThread(app.store, "th_seen", mergeStart());
  return app;
}

describe("a lock from Slack's /deploybot", () => {
  it("locks a component for a listed approver and unlocks it for a user mapped to a writer", async () => {
    app = await serverKnowingTheRepository();
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      mockRepoConfig(CONFIG_YAML),
      mockPermission("octocat", "write"),
      mockSlack(app.slackCalls, { "chat.postEphemeral": 2 }),
    ];
    const lock = slashCommandBody('lock production backend "migrating the DB"', { user: "U01APPROVER" });
    const answered = await app.slack("/slack/commands", lock);
    expect(JSON.parse(answered.body)).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining("On it"),
    });
    await app.runWorker();
    expect(await app.store.listManualLocks(FULL)).toMatchObject([
      { environment: "production", component: "backend", reason: "migrating the DB", by: "U01APPROVER" },
    ]);

    await app.slack("/slack/commands", slashCommandBody("unlock production backend", { user: "U01OCTOCAT" }));
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await app.store.listManualLocks(FULL)).toEqual([]);
    const ephemerals = app.slackCalls.map((c) => ({ user: c.body.user, text: c.body.text }));
    expect(ephemerals).toEqual([
      { user: "U01APPROVER", text: expect.stringContaining("Locked backend in production of acme/shop") },
      { user: "U01OCTOCAT", text: expect.stringContaining("Unlocked backend in production of acme/shop") },
    ]);
  });

  it("refuses a Slack user who is neither an approver nor mapped to anyone", async () => {
    app = await serverKnowingTheRepository();
    const scopes = [
      mockInstallationToken(),
      mockRepoConfig(CONFIG_YAML),
      mockSlack(app.slackCalls, { "chat.postEphemeral": 1 }),
    ];
    await app.slack(
      "/slack/commands",
      slashCommandBody('lock production "mine now"', { user: "U09STRANGER" }),
    );
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(app.slackCalls[0]?.body.text).toContain("Refused: only approvers of production");
    expect(await app.store.listManualLocks()).toEqual([]);
  });

  it("answers a lock without a reason at once, and queues nothing", async () => {
    app = await serverKnowingTheRepository();
    const answered = await app.slack(
      "/slack/commands",
      slashCommandBody("lock production", { user: "U01APPROVER" }),
    );
    expect(JSON.parse(answered.body)).toMatchObject({ text: expect.stringContaining("say why") });
    expect(await app.runWorker()).toBe(0);
  });
});

describe("a lock through the REST API", () => {
  it("refuses an unknown environment, an unknown component and an empty reason with a 400 that says which", async () => {
    app = await serverKnowingTheRepository();
    const lock = (body: Record<string, unknown>) => app.api("POST", "/api/v1/locks", { repo: FULL, ...body });
    const unknownEnvironment = await lock({ environment: "qa", reason: "load test" });
    expect(unknownEnvironment.status).toBe(400);
    expect(JSON.parse(unknownEnvironment.body).error).toContain('unknown environment "qa"');
    const unknownComponent = await lock({ environment: "production", component: "mobile", reason: "x" });
    expect(unknownComponent.status).toBe(400);
    expect(JSON.parse(unknownComponent.body).error).toContain('unknown component "mobile"');
    const noReason = await lock({ environment: "production", reason: "  " });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain("the reason is required");
    expect(await app.runWorker()).toBe(0);
  });

  it("answers 404 for a repository deploybot has not seen and for unlocking a place that is not locked", async () => {
    app = await serverKnowingTheRepository();
    const unseen = await app.api("POST", "/api/v1/locks", {
      repo: "acme/other",
      environment: "production",
      reason: "x",
    });
    expect(unseen.status).toBe(404);
    const notLocked = await app.api("DELETE", "/api/v1/locks", { repo: FULL, environment: "staging" });
    expect(notLocked.status).toBe(404);
    expect(JSON.parse(notLocked.body).error).toBe("staging of acme/shop is not locked");
  });

  it("locks once per Idempotency-Key, in the token's name", async () => {
    app = await serverKnowingTheRepository();
    const scopes = [mockInstallationToken(), mockRepoConfig(CONFIG_YAML)];
    const body = { repo: FULL, environment: "staging", reason: "load test" };
    const headers = { "idempotency-key": "lock-staging-1" };
    const first = await app.api("POST", "/api/v1/locks", body, { headers });
    const again = await app.api("POST", "/api/v1/locks", body, { headers });
    expect(first.status).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(await app.runWorker()).toBe(1);
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await app.store.listManualLocks(FULL)).toMatchObject([{ environment: "staging", by: "api:ci" }]);
  });
});

describe("the dashboard's lock form", () => {
  it("queues a lock from the overview's form and shows a flash message", async () => {
    app = await serverKnowingTheRepository();
    const overview = await httpRequest(`${app.base}/threads/overview`, { headers: basic() });
    const csrf = /name="csrf" value="([^"]+)"/.exec(overview.body)?.[1] ?? "";
    expect(overview.body).toContain('action="/threads/locks/lock"');
    const form = new URLSearchParams({
      csrf,
      repo: FULL,
      environment: "production",
      component: "",
      reason: "freeze",
    });
    const posted = await httpRequest(`${app.base}/threads/locks/lock`, {
      method: "POST",
      headers: { ...basic(), "content-type": "application/x-www-form-urlencoded", origin: app.base },
      body: form.toString(),
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.location).toBe("/threads/overview?done=lock");
    const scopes = [mockInstallationToken(), mockRepoConfig(CONFIG_YAML)];
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(await app.store.listManualLocks(FULL)).toMatchObject([
      { environment: "production", component: null, by: "api:ci" },
    ]);
    const flashed = await httpRequest(`${app.base}/threads/overview?done=lock`, { headers: basic() });
    expect(flashed.body).toContain("Lock sent");
    expect(flashed.body).toContain("locked by api:ci");
  });

  it("refuses a lock form without a reason with a page that says so", async () => {
    app = await serverKnowingTheRepository();
    const overview = await httpRequest(`${app.base}/threads/overview`, { headers: basic() });
    const csrf = /name="csrf" value="([^"]+)"/.exec(overview.body)?.[1] ?? "";
    const form = new URLSearchParams({ csrf, repo: FULL, environment: "production", reason: "" });
    const posted = await httpRequest(`${app.base}/threads/locks/lock`, {
      method: "POST",
      headers: { ...basic(), "content-type": "application/x-www-form-urlencoded", origin: app.base },
      body: form.toString(),
    });
    expect(posted.status).toBe(400);
    expect(posted.body).toContain("the reason is required");
  });
});
