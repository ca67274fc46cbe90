import type { AddressInfo } from "node:net";
import { sign } from "@octokit/webhooks-methods";
import { pino } from "pino";
import { Probot, Server } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, healthRoute } from "../../src/app.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { mergedPullRequest } from "../helpers/fixtures.js";
import { httpRequest } from "../helpers/http.js";
import { APP_ID, TestOctokit, testPrivateKey, WEBHOOK_SECRET } from "../helpers/probot.js";

/** The HTTP surface through a real server on a free port, with signed requests. */

let server: Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function startServer() {
  const store = new SqliteStore(":memory:");
  await store.migrate();
  const log = pino({ level: "silent" });
  server = new Server({
    Probot: Probot.defaults({
      appId: APP_ID,
      privateKey: testPrivateKey(),
      secret: WEBHOOK_SECRET,
      Octokit: TestOctokit,
      log,
    }),
    host: "127.0.0.1",
    port: 0,
    log,
  });
  await server.load(createApp({ store, clock: () => new Date(), routes: () => [healthRoute(store)] }));
  const http = await server.start();
  const { port } = http.address() as AddressInfo;
  return { store, base: `http://127.0.0.1:${port}` };
}

async function postWebhook(base: string, body: string, headers: Record<string, string>) {
  return httpRequest(`${base}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "pull_request", ...headers },
    body,
  });
}

describe("the webhook endpoint", () => {
  it("stores a signed merge in the inbox and answers at once", async () => {
    const { store, base } = await startServer();
    const body = JSON.stringify(mergedPullRequest());

    const response = await postWebhook(base, body, {
      "x-github-delivery": "d-1",
      "x-hub-signature-256": await sign(WEBHOOK_SECRET, body),
    });

    expect(response.status).toBe(200);
    expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
    const entry = await store.claimInbox("test", new Date(), 1_000);
    expect(entry).toMatchObject({ deliveryId: "d-1", source: "github", kind: "pull_request.closed" });
  });

  it("refuses a forged signature with a 4xx and stores nothing", async () => {
    const { store, base } = await startServer();
    const body = JSON.stringify(mergedPullRequest());

    const response = await postWebhook(base, body, {
      "x-github-delivery": "d-forged",
      "x-hub-signature-256": await sign("not-the-secret", body),
    });

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  });

  it("does nothing twice for a redelivery with the same delivery id", async () => {
    const { store, base } = await startServer();
    const body = JSON.stringify(mergedPullRequest());
    const headers = {
      "x-github-delivery": "d-again",
      "x-hub-signature-256": await sign(WEBHOOK_SECRET, body),
    };

    const first = await postWebhook(base, body, headers);
    const second = await postWebhook(base, body, headers);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("refuses a request without a signature", async () => {
    const { store, base } = await startServer();

    const response = await postWebhook(base, JSON.stringify(mergedPullRequest()), {
      "x-github-delivery": "d-2",
    });

    expect(response.status).toBe(400);
    expect(await store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  });
});

describe("the health endpoint", () => {
  it("answers with the inbox counts", async () => {
    const { base } = await startServer();
    const response = await httpRequest(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: "ok", inbox: { queued: 0, done: 0, dead: 0 } });
  });
});
