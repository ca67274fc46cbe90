import { openApiDocument } from "../../src/http/openapi.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INSTALLATION_ID, OWNER, REPO } from "../helpers/fixtures.js";
import { API_TOKEN, startAppServer, type AppServer } from "../helpers/app-server.js";
import { CONFIG_YAML } from "../helpers/github-mocks.js";
import { httpRequest } from "../helpers/http.js";
import { deployRun, on } from "../helpers/thread-builder.js";

/**
 * `Idempotency-Key` on the REST API's changes: the same request again gets the first answer again
 * and changes nothing more; the same key on another request is a 422 that names the first one.
 * The worker is not run: what matters is what reaches the inbox.
 */

let app: AppServer | undefined;
const directories: string[] = [];
afterEach(async () => {
  await app?.stop();
  app = undefined;
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A repository without Slack, so the worker can cancel a thread without calling anyone. */
const NO_SLACK = CONFIG_YAML.replace("slack:\n  channel: C01DEPLOYS\n", "");

/** Two threads deploying to staging (not finished): either can be paused or cancelled. */
async function twoRunningThreads(server: AppServer): Promise<void> {
  for (const id of ["th_first", "th_second"]) {
    await server.store.createThread(
      { id, repo: `${OWNER}/${REPO}`, installationId: INSTALLATION_ID, title: id },
      [
        on.prMerged(),
        on.configLoaded(NO_SLACK),
        on.changes({ backend: ["api/cart.ts"] }),
        ...deployRun("backend", "staging").slice(0, 3),
      ],
      server.now.value,
    );
  }
}

async function start(options: Parameters<typeof startAppServer>[0] = {}): Promise<AppServer> {
  app = await startAppServer(options);
  await twoRunningThreads(app);
  return app;
}

const withKey = (key: string) => ({ headers: { "idempotency-key": key } });

describe("a change repeated with the same Idempotency-Key", () => {
  it("gets the first answer again, same status and body, and is queued once", async () => {
    const server = await start();

    const first = await server.api(
      "POST",
      "/api/v1/threads/th_first/cancel",
      { reason: "wrong PR" },
      withKey("k1"),
    );
    const again = await server.api(
      "POST",
      "/api/v1/threads/th_first/cancel",
      { reason: "wrong PR" },
      withKey("k1"),
    );

    expect(first.status).toBe(202);
    expect(again.status).toBe(first.status);
    expect(JSON.parse(again.body)).toEqual(JSON.parse(first.body));
    expect(JSON.parse(again.body)).toEqual({ thread_id: "th_first", action: "cancel", accepted: true });
    expect(await server.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("is the same request whatever the body's spacing, key order or surrounding whitespace", async () => {
    const server = await start();
    await server.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), server.now.value);
    const launch = (body: string) =>
      httpRequest(`${server.base}/api/v1/threads`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          "content-type": "application/json",
          "idempotency-key": "k-spacing",
        },
        body,
      });

    const launched = await launch(`{"repo":"${OWNER}/${REPO}","text":"ship"}`);
    const relaunched = await launch(`{ "text": "  ship ",\n  "repo": "${OWNER}/${REPO}" }`);

    expect(launched.status).toBe(202);
    expect(relaunched.status).toBe(202);
    expect(relaunched.headers["idempotent-replayed"]).toBe("true");
    expect(JSON.parse(relaunched.body)).toEqual(JSON.parse(launched.body));
    expect(await server.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("does not remember a refusal: the same key works once the request can be accepted", async () => {
    const server = await start();
    const body = { repo: `${OWNER}/${REPO}`, text: "ship" };

    const refused = await server.api("POST", "/api/v1/threads", body, withKey("k-refused"));
    await server.store.setRef(`repo:${OWNER}/${REPO}`, String(INSTALLATION_ID), server.now.value);
    const accepted = await server.api("POST", "/api/v1/threads", body, withKey("k-refused"));

    expect(refused.status).toBe(404);
    expect(accepted.status).toBe(202);
    expect(await server.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("replays the first answer after a restart, from the database", async () => {
    const directory = mkdtempSync(join(tmpdir(), "deploybot-idem-"));
    directories.push(directory);
    const databasePath = join(directory, "deploybot.sqlite");
    const before = await start({ databasePath });
    const first = await before.api("POST", "/api/v1/threads/th_first/pause", {}, withKey("k-restart"));
    await before.stop();
    app = await startAppServer({ databasePath });

    const again = await app.api("POST", "/api/v1/threads/th_first/pause", {}, withKey("k-restart"));

    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toBe(first.body);
    expect(await app.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("replays the first answer even after the change made the request impossible", async () => {
    const server = await start();
    await server.api("POST", "/api/v1/threads/th_first/cancel", {}, withKey("k-late"));
    await server.runWorker();
    expect((await server.store.getThreadSummary("th_first"))?.status).toBe("cancelled");

    const again = await server.api("POST", "/api/v1/threads/th_first/cancel", {}, withKey("k-late"));

    expect(again.status).toBe(202);
    expect(JSON.parse(again.body)).toEqual({ thread_id: "th_first", action: "cancel", accepted: true });
  });
});

describe("an Idempotency-Key reused for a different request", () => {
  it("answers 422 for a different body, naming the conflict, and queues nothing more", async () => {
    const server = await start();
    await server.api("POST", "/api/v1/threads/th_first/cancel", { reason: "wrong PR" }, withKey("k3"));

    const other = await server.api(
      "POST",
      "/api/v1/threads/th_first/cancel",
      { reason: "tests red" },
      withKey("k3"),
    );

    expect(other.status).toBe(422);
    expect(JSON.parse(other.body)).toEqual({
      error:
        'Idempotency-Key "k3" was already used with a different body: send a new key for a new request, or repeat the first request exactly to get its answer again',
    });
    expect(await server.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });

  it("answers 422 for another thread, naming the first request, and leaves that thread alone", async () => {
    const server = await start();
    await server.api("POST", "/api/v1/threads/th_first/cancel", {}, withKey("k4"));

    const other = await server.api("POST", "/api/v1/threads/th_second/cancel", {}, withKey("k4"));

    expect(other.status).toBe(422);
    expect(JSON.parse(other.body).error).toContain(
      'Idempotency-Key "k4" was already used for POST /api/v1/threads/th_first/cancel, not POST /api/v1/threads/th_second/cancel',
    );
    await server.runWorker();
    expect((await server.store.getThreadSummary("th_first"))?.status).toBe("cancelled");
    expect((await server.store.getThreadSummary("th_second"))?.status).toBe("waiting_for_deploy");
  });

  it("answers 422 for another action on the same thread", async () => {
    const server = await start();
    await server.api("POST", "/api/v1/threads/th_first/pause", {}, withKey("k5"));

    const other = await server.api("POST", "/api/v1/threads/th_first/cancel", {}, withKey("k5"));

    expect(other.status).toBe(422);
    expect(JSON.parse(other.body).error).toContain("already used for POST /api/v1/threads/th_first/pause");
  });

  it("lets two requests racing with one key and different bodies through once: one 202, one 422", async () => {
    const server = await start();

    const answers = await Promise.all([
      server.api("POST", "/api/v1/threads/th_first/cancel", { reason: "one" }, withKey("k-race")),
      server.api("POST", "/api/v1/threads/th_first/cancel", { reason: "two" }, withKey("k-race")),
    ]);

    expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
    expect(await server.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });
});

describe("Idempotency-Keys of different clients", () => {
  it("do not collide: each client's key is its own", async () => {
    const server = await start({
      apiTokens: new Map([
        [API_TOKEN, "ci"],
        ["other-token-for-tests-0123456789", "ops"],
      ]),
    });

    const ci = await server.api("POST", "/api/v1/threads/th_first/pause", {}, withKey("shared"));
    const ops = await server.api(
      "POST",
      "/api/v1/threads/th_second/pause",
      {},
      {
        ...withKey("shared"),
        token: "other-token-for-tests-0123456789",
      },
    );

    expect([ci.status, ops.status]).toEqual([202, 202]);
    expect(await server.store.inboxCounts()).toEqual({ queued: 2, done: 0, dead: 0 });
  });
});

describe("a malformed Idempotency-Key", () => {
  it("is refused with 400 instead of being ignored, and nothing is queued", async () => {
    const server = await start();

    const response = await server.api(
      "POST",
      "/api/v1/threads/th_first/cancel",
      {},
      withKey("spaces are not allowed"),
    );

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toContain("Idempotency-Key must be 1 to 100");
    expect(await server.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
  });
});

describe("the OpenAPI description of Idempotency-Key", () => {
  it("documents the 422 conflict on every operation that takes the key", () => {
    const spec = openApiDocument() as {
      paths: Record<string, Record<string, { parameters?: { name?: string }[]; responses: object }>>;
    };
    const keyed = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, operation]) => (operation.parameters ?? []).some((p) => p.name === "Idempotency-Key"))
        .map(([method, operation]) => ({
          name: `${method.toUpperCase()} ${path}`,
          responses: Object.keys(operation.responses),
        })),
    );

    expect(keyed).toHaveLength(9);
    for (const { name, responses } of keyed) expect(responses, name).toContain("422");
  });
});
