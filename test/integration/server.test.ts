import { sign } from "@octokit/webhooks-methods";
import type { StartedServer } from "../../src/http/server.js";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, healthRoute } from "../../src/app.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { mergedPullRequest } from "../helpers/fixtures.js";
import { httpRequest } from "../helpers/http.js";
import { startTestServer, WEBHOOK_SECRET } from "../helpers/probot.js";

/** The HTTP surface through a real server on a free port, with signed requests. */

let server: StartedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function startServer() {
  const store = new SqliteStore(":memory:");
  await store.migrate();
  server = await startTestServer(
    createApp({ store, clock: () => new Date(), routes: () => [healthRoute(store)] }),
  );
  return { store, base: server.url };
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

  it("refuses a request without a signature with 401", async () => {
    const { store, base } = await startServer();

    const response = await postWebhook(base, JSON.stringify(mergedPullRequest()), {
      "x-github-delivery": "d-2",
    });

    expect(response.status).toBe(401);
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

describe("bad requests to the webhook endpoint", () => {
  async function expectRefused(
    request: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
    status: number,
  ) {
    const { store, base } = await startServer();
    const response = await httpRequest(`${base}/api/github/webhooks`, { method: "POST", ...request });
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body)).toHaveProperty("error");
    expect(await store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  }
  const signedHeaders = async (body: string) => ({
    "content-type": "application/json",
    "x-github-event": "pull_request",
    "x-github-delivery": "d-bad",
    "x-hub-signature-256": await sign(WEBHOOK_SECRET, body),
  });

  it("refuses a body over 1 MB with 413", async () => {
    const body = JSON.stringify({ padding: "x".repeat(1_100_000) });
    await expectRefused({ headers: await signedHeaders(body), body }, 413);
  });

  it("refuses malformed JSON with 400, even correctly signed", async () => {
    const body = '{"action": "closed",';
    await expectRefused({ headers: await signedHeaders(body), body }, 400);
  });

  it("refuses a wrong content type with 415", async () => {
    const body = "action=closed";
    await expectRefused(
      { headers: { ...(await signedHeaders(body)), "content-type": "text/plain" }, body },
      415,
    );
  });

  it("refuses an unknown event with 400", async () => {
    const body = "{}";
    await expectRefused(
      { headers: { ...(await signedHeaders(body)), "x-github-event": "nonsense" }, body },
      400,
    );
  });

  it("refuses a GET with 405", async () => {
    await expectRefused({ method: "GET" }, 405);
  });

  it("answers 404 for an unknown path", async () => {
    const { base } = await startServer();
    expect((await httpRequest(`${base}/nowhere`)).status).toBe(404);
  });
});
