import type { RouteHandler } from "../app.js";
import { createMetrics, type Metrics } from "../metrics/metrics.js";
import type { Store } from "../store/store.js";
import { pathOf } from "./body.js";

/**
 * `GET /metrics`, in Prometheus' text format, from the process's metrics registry (prom-client):
 * Node's default process metrics, what this replica counted, and gauges read from the store at
 * each scrape.
 */
export function metricsRoute(store: Store, metrics: Metrics = createMetrics()): RouteHandler {
  metrics.observeStore(store);
  return async (req, res) => {
    if (pathOf(req) !== "/metrics") return false;
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET", "content-type": "text/plain" });
      res.end("use GET\n");
      return true;
    }
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(text);
    return true;
  };
}
