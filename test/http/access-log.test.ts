import { afterEach, describe, expect, it } from "vitest";
import { createApp, healthRoute } from "../../src/app.js";
import { routeOf } from "../../src/http/access-log.js";
import { startHttpServer, type StartedServer } from "../../src/http/server.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { recordingLog } from "../helpers/harness.js";
import { httpRequest } from "../helpers/http.js";
import { createTestProbot } from "../helpers/probot.js";

describe("the access log", () => {
  let server: StartedServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  async function start() {
    const store = new SqliteStore(":memory:");
    await store.migrate();
    const log = recordingLog();
    const metrics = createMetrics({ defaultMetrics: false });
    server = await startHttpServer({
      probot: createTestProbot(),
      app: createApp({ store, clock: () => new Date(), routes: () => [healthRoute(store)] }),
      host: "127.0.0.1",
      port: 0,
      log,
      metrics,
    });
    return { base: server.url, log, metrics };
  }

  it("writes one line per request with the method, the route, the status and the milliseconds", async () => {
    const { base, log } = await start();

    await httpRequest(`${base}/healthz`);

    const line = log.lines.find((l) => l.startsWith("info GET /healthz 200"));
    expect(line).toBeDefined();
    const fields = JSON.parse(line!.slice(line!.indexOf("{"))) as Record<string, unknown>;
    expect(fields).toMatchObject({ method: "GET", route: "/healthz", status: 200 });
    expect(typeof fields.ms).toBe("number");
  });

  it("counts a webhook with a bad signature as rejected, and logs no stack trace for it", async () => {
    const { base, log, metrics } = await start();

    const response = await httpRequest(`${base}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": "d-1",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
      },
      body: "{}",
    });

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const text = await metrics.registry.metrics();
    expect(text).toContain('deploybot_webhooks_received_total{event="pull_request",outcome="rejected"} 1');
    expect(log.lines.some((l) => l.startsWith(`info POST /api/github/webhooks ${response.status}`))).toBe(
      true,
    );
    expect(log.lines.join("\n")).not.toMatch(/\n\s+at /);
  });

  it("names routes by their pattern, never by ids from the path", () => {
    expect(routeOf("/api/v1/threads/th_0123/pause")).toBe("/api/v1/threads/{id}/pause");
    expect(routeOf("/threads/th_0123")).toBe("/threads/{id}");
    expect(routeOf("/slack/actions")).toBe("/slack/actions");
    expect(routeOf("/wp-admin/secret-token")).toBe("other");
  });
});
