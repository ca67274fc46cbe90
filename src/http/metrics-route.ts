import type { RouteHandler } from "../app.js";
import type { Store } from "../store/store.js";
import { THREAD_STATUSES } from "../thread/events.js";
import { pathOf } from "./body.js";

/**
 * `GET /metrics`, in Prometheus' text format: threads by status, the inbox, running deploys (held
 * locks), and the process. Read from the store at each scrape, so every replica reports the same.
 */
export function metricsRoute(store: Store): RouteHandler {
  return async (req, res) => {
    if (pathOf(req) !== "/metrics") return false;
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET", "content-type": "text/plain" });
      res.end("use GET\n");
      return true;
    }
    const [threads, inbox, locks] = await Promise.all([
      store.threadCounts(),
      store.inboxCounts(),
      store.listLocks(),
    ]);
    const memory = process.memoryUsage();
    const lines = [
      "# HELP deploybot_threads Threads by status.",
      "# TYPE deploybot_threads gauge",
      ...THREAD_STATUSES.map((status) => `deploybot_threads{status="${status}"} ${threads[status] ?? 0}`),
      "# HELP deploybot_inbox_entries Inbox entries by state (queued entries wait for the worker).",
      "# TYPE deploybot_inbox_entries gauge",
      ...(["queued", "done", "dead"] as const).map(
        (state) => `deploybot_inbox_entries{state="${state}"} ${inbox[state]}`,
      ),
      "# HELP deploybot_running_deploys Deploys holding a lock (one per repository, component and environment).",
      "# TYPE deploybot_running_deploys gauge",
      `deploybot_running_deploys ${locks.length}`,
      "# HELP process_resident_memory_bytes Resident memory size in bytes.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes ${memory.rss}`,
      "# HELP process_uptime_seconds Seconds since the process started.",
      "# TYPE process_uptime_seconds gauge",
      `process_uptime_seconds ${Math.round(process.uptime())}`,
    ];
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(`${lines.join("\n")}\n`);
    return true;
  };
}
