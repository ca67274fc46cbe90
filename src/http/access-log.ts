import type { IncomingMessage, ServerResponse } from "node:http";
import type { Log } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { pathOf } from "./body.js";

/**
 * One access line per request (method, route, status, milliseconds), counted in the metrics; a
 * GitHub webhook also counts by event and outcome. The route is the pattern, never the raw path,
 * so ids and tokens stay out of logs and metric labels.
 */

const ROUTES: [RegExp, string][] = [
  [/^\/api\/github\/webhooks$/, "/api/github/webhooks"],
  [/^\/slack\/(actions|commands|events)$/, "/slack/$1"],
  [/^\/api\/v1\/openapi\.json$/, "/api/v1/openapi.json"],
  [/^\/api\/v1\/threads$/, "/api/v1/threads"],
  [/^\/api\/v1\/threads\/[^/]+$/, "/api/v1/threads/{id}"],
  [/^\/api\/v1\/threads\/[^/]+\/(pause|resume|cancel|answer|approve|reject)$/, "/api/v1/threads/{id}/$1"],
  [/^\/api\/v1\/locks$/, "/api/v1/locks"],
  [/^\/threads$/, "/threads"],
  [/^\/threads\/locks\/(lock|unlock)$/, "/threads/locks/$1"],
  [/^\/threads\/[^/]+$/, "/threads/{id}"],
  [/^\/(healthz|metrics|ping)$/, "/$1"],
  [/^\/probot(\/[a-z]+)?$/, "/probot$1"],
];

export function routeOf(path: string): string {
  for (const [pattern, route] of ROUTES) if (pattern.test(path)) return path.replace(pattern, route);
  return "other";
}

function webhookOutcome(status: number): string {
  if (status < 300) return "accepted";
  return status < 500 ? "rejected" : "error";
}

export function logAccess(
  req: IncomingMessage,
  res: ServerResponse,
  log: Log,
  metrics?: Metrics,
  started = process.hrtime.bigint(),
): void {
  res.once("finish", () => {
    const ms = Number((process.hrtime.bigint() - started) / 1_000n) / 1_000;
    const method = req.method ?? "GET";
    const route = routeOf(pathOf(req));
    const status = res.statusCode;
    log.info({ method, route, status, ms }, `${method} ${route} ${status} ${ms.toFixed(1)}ms`);
    metrics?.httpRequests.inc({ method, route, status: String(status) });
    if (route === "/api/github/webhooks") {
      const event = req.headers["x-github-event"];
      metrics?.webhooks.inc({
        event: typeof event === "string" && /^[a-z_]{1,40}$/.test(event) ? event : "unknown",
        outcome: webhookOutcome(status),
      });
    }
  });
}
