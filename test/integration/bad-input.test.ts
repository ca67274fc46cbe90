import { Writable } from "node:stream";
import { sign } from "@octokit/webhooks-methods";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import type { StartedServer } from "../../src/http/server.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { API_TOKEN, startAppServer, type AppServer } from "../helpers/app-server.js";
import { deploymentStatus, mergedPullRequest } from "../helpers/fixtures.js";
import { httpRequest } from "../helpers/http.js";
import { startTestServer, WEBHOOK_SECRET } from "../helpers/probot.js";

/** Bad input from outside gets a 4xx (or is set aside at once), never a 500 or a retry loop. */

let app: AppServer | undefined;
let server: StartedServer | undefined;
afterEach(async () => {
  await app?.stop();
  await server?.close();
  app = undefined;
  server = undefined;
});

let deliveries = 0;

/** A webhook with a body as given (not re-serialized), signed unless a signature is given. */
async function postWebhook(
  base: string,
  body: string,
  options: { event?: string; signature?: string | null } = {},
): Promise<{ status: number; body: string }> {
  const signature = options.signature === undefined ? await sign(WEBHOOK_SECRET, body) : options.signature;
  return httpRequest(`${base}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": options.event ?? "pull_request",
      "x-github-delivery": `bad-input-${++deliveries}`,
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    },
    body,
  });
}

const nothingStored = { queued: 0, done: 0, dead: 0 };

describe("a thread page address with a malformed escape", () => {
  const malformed = "/threads/%E0%A4%A";

  it("answers the signed-in dashboard with 400", async () => {
    app = await startAppServer();
    const response = await httpRequest(`${app.base}${malformed}`, {
      headers: { authorization: `Basic ${Buffer.from(`me:${API_TOKEN}`).toString("base64")}` },
    });
    expect(response.status).toBe(400);
    expect(response.body).toContain("malformed percent-encoding");
  });

  it("answers the REST API with 400", async () => {
    app = await startAppServer();
    const response = await app.api("GET", `/api/v1${malformed}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: "malformed percent-encoding in the path: %E0%A4%A",
    });
  });
});

describe("a signed webhook nested 10,000 levels deep", () => {
  it("is refused with 400 and nothing is stored", async () => {
    app = await startAppServer();
    const merged = JSON.stringify(mergedPullRequest());
    const body = `${merged.slice(0, -1)},"extra":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;

    const response = await postWebhook(app.base, body);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: "webhook body is nested deeper than 64 levels" });
    expect(await app.store.inboxCounts()).toEqual(nothingStored);
  });
});

describe("a signed webhook whose installation id is not a number", () => {
  it.each([
    ["a string", '"12"'],
    ["an object", "{}"],
    ["negative", "-1"],
  ])("is refused with 400 when it is %s, and nothing is stored", async (_name, id) => {
    app = await startAppServer();
    const payload = mergedPullRequest();
    payload.installation = { id: JSON.parse(id) as unknown };

    const response = await postWebhook(app.base, JSON.stringify(payload));

    expect(response.status).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(
      /^webhook payload refused: installation\.id: /,
    );
    expect(await app.store.inboxCounts()).toEqual(nothingStored);
  });
});

describe("a webhook with a malformed field", () => {
  it.each([
    ["a path as the merge commit", { sha: "../../x" }],
    ["a merge commit that is not hex", { sha: "z".repeat(40) }],
  ])("is set aside at its first attempt, without a thread: %s", async (_name, options) => {
    app = await startAppServer();
    const response = await app.webhook("pull_request", mergedPullRequest(options));
    expect(response.status).toBe(200);

    await app.runWorker();

    expect(await app.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 1 });
    expect(await app.store.listThreads({})).toEqual([]);
    const gaveUp = app.log.lines.filter((line) => line.startsWith("error gave up"));
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toContain("pull_request.merge_commit_sha: expected a 40-character lowercase hex");
    expect(gaveUp[0]).toContain('"attempt":1');
  });

  it("sets aside a deployment status whose SHA is not hex", async () => {
    app = await startAppServer();
    const payload = deploymentStatus({ deploymentId: 1001, state: "success" });
    (payload.deployment as Record<string, unknown>).sha = "../../etc/passwd";
    expect((await app.webhook("deployment_status", payload)).status).toBe(200);

    await app.runWorker();

    expect(await app.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 1 });
    expect(app.log.lines.find((line) => line.startsWith("error gave up"))).toContain("deployment.sha");
  });
});

describe("a forged or unsigned webhook", () => {
  /** The server with one pino logger for deploybot and Probot, as the process runs, into `lines`. */
  async function startLoggedServer() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: "debug" }, stream);
    const store = new SqliteStore(":memory:");
    await store.migrate();
    server = await startTestServer(createApp({ store, clock: () => new Date() }), log, log);
    return { store, lines, base: server.url };
  }

  it.each([
    ["signed with another secret", "forged"],
    ["signed with garbage", "sha256=zz"],
    ["without a signature", null],
  ])("is refused with 401 and exactly one warning line without a stack: %s", async (_name, kind) => {
    const { store, lines, base } = await startLoggedServer();
    const body = JSON.stringify(mergedPullRequest());
    const signature = kind === "forged" ? await sign("not-the-secret", body) : kind;

    const response = await postWebhook(base, body, { signature });

    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual({
      error: "X-Hub-Signature-256 is missing or does not match the payload",
    });
    expect(await store.inboxCounts()).toEqual(nothingStored);
    const warnings = lines.filter((line) => (line.level as number) >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect(warnings[0]!.msg).toMatch(/X-Hub-Signature-256: if GitHub sent it, set WEBHOOK_SECRET/);
    expect(JSON.stringify(warnings[0])).not.toMatch(/stack|"err"/);
  });
});
