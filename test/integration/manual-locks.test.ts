import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deploymentStatus,
  MERGE_SHA,
  mergedPullRequest,
  OWNER,
  prComment,
  REPO,
} from "../helpers/fixtures.js";
import {
  CONFIG_NO_APPROVAL_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockInstallationToken,
  mockIssueComment,
  mockMergeContext,
  mockPermission,
  mockReaction,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { startAppServer, type AppServer } from "../helpers/app-server.js";
import { basic } from "../dashboard/dashboard-helpers.js";
import { httpRequest } from "../helpers/http.js";

/**
 * Manual locks through the real server: a person locks a place from a PR comment, Slack, the REST
 * API or the dashboard; every step to it waits, visibly, until it is unlocked, which wakes it.
 */

const FULL = `${OWNER}/${REPO}`;
const THREAD_ID = threadIdForMerge(FULL, 7, MERGE_SHA);
/** Production needs no approval and no Slack channel: an unlocked deploy runs straight on. */
const CONFIG = CONFIG_NO_APPROVAL_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");

let app: AppServer;
afterEach(async () => app?.stop());

describe("a manual lock set from a pull request comment", () => {
  it("holds a merge's production deploy, shows on the dashboard and the API, until the API unlocks it", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const reactions: string[] = [];
    const lockScopes = [
      mockInstallationToken(),
      mockPermission("hubot", "write"),
      mockRepoConfig(CONFIG),
      mockReaction(900_001, reactions),
      mockIssueComment(7, replies),
    ];
    const comment = prComment({
      body: '/deploybot lock production "migrating the database"',
      login: "hubot",
    });
    expect((await app.webhook("issue_comment", comment)).status).toBe(200);
    await app.runWorker();
    for (const scope of lockScopes) expect(scope.isDone()).toBe(true);
    expect(reactions).toEqual(["eyes"]);
    expect(replies[0]).toContain("@hubot Locked production of acme/shop");

    const mergeScopes = [
      ...mockMergeContext({ config: CONFIG, token: false }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await app.webhook("pull_request", mergedPullRequest());
    await app.runWorker();
    await app.webhook("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    await app.runWorker();
    for (const scope of mergeScopes) expect(scope.isDone()).toBe(true);
    const held = deriveState((await app.store.getThread(THREAD_ID))!.events);
    expect(held.status).toBe("waiting_for_lock");
    expect(held.waitingOn).toContain("production is locked by @hubot: migrating the database");

    const overview = await httpRequest(`${app.base}/threads/overview`, { headers: basic() });
    expect(overview.body).toContain("migrating the database");
    expect(overview.body).toContain("locked by @hubot");
    expect(overview.body).toContain('action="/threads/locks/unlock"');
    const listed = await app.api("GET", `/api/v1/locks?repo=${FULL}`);
    expect(JSON.parse(listed.body)).toMatchObject({
      locks: [{ repo: FULL, environment: "production", component: null, by: "hubot" }],
    });

    const unlockScopes = [
      mockRepoConfig(CONFIG),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    const unlocked = await app.api("DELETE", "/api/v1/locks", { repo: FULL, environment: "production" });
    expect(unlocked.status).toBe(202);
    await app.runWorker();
    for (const scope of unlockScopes) expect(scope.isDone()).toBe(true);
    const after = deriveState((await app.store.getThread(THREAD_ID))!.events);
    expect(after.status).toBe("waiting_for_deploy");
    expect(after.inFlight?.authorized.data.environment).toBe("production");
    expect(await app.store.listManualLocks(FULL)).toEqual([]);
  });

  it("is refused for a user without write permission who is no approver, and nothing is locked", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const reactions: string[] = [];
    const scopes = [
      mockInstallationToken(),
      mockPermission("drive-by", "read"),
      mockRepoConfig(CONFIG),
      mockReaction(900_001, reactions),
      mockIssueComment(7, replies),
    ];
    const comment = prComment({ body: '/deploybot lock production "nope"', login: "drive-by" });
    await app.webhook("issue_comment", comment);
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(reactions).toEqual(["-1"]);
    expect(replies[0]).toContain("Refused: locking production needs write permission on acme/shop");
    expect(await app.store.listManualLocks()).toEqual([]);
  });
});

describe("a lock that names a place the config does not have", () => {
  it("is answered on the pull request with the unknown name", async () => {
    app = await startAppServer();
    const replies: string[] = [];
    const scopes = [
      mockInstallationToken(),
      mockPermission("hubot", "admin"),
      mockRepoConfig(CONFIG),
      mockReaction(900_001),
      mockIssueComment(7, replies),
    ];
    await app.webhook("issue_comment", prComment({ body: '/deploybot lock qa "load test"', login: "hubot" }));
    await app.runWorker();
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain('unknown environment "qa"; this repository has staging, production');
    expect(await app.store.listManualLocks()).toEqual([]);
  });
});
