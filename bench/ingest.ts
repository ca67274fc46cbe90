import { sign } from "@octokit/webhooks-methods";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { join } from "node:path";
import { mergedPullRequest } from "../test/helpers/fixtures.js";
import { BENCH_SECRET, startBaseline, startDeploybot, type Child } from "./children.js";
import { median, round } from "./stats.js";

/**
 * Webhooks per second, side by side: deploybot as `npm start` runs it (SQLite file, info logging,
 * the worker idle) and a bare Probot app with a no-op handler, both answering the same signed
 * 23 KB `pull_request.closed` (a real payload from @octokit/webhooks-examples, merged), 20
 * connections, alternating rounds of the same length; each figure is the median of the rounds.
 */

export const CONNECTIONS = 20;

export interface IngestResult {
  deploybot_rps: number;
  baseline_rps: number;
  ratio: number;
  p99_ms: number;
  baseline_p99_ms: number;
  bytes_per_delivery: number | null;
  payload_bytes: number;
  rss_idle_mb: number;
}

interface Round {
  rps: number;
  p99: number;
}

async function load(url: string, body: string, signature: string, label: string, seconds: number) {
  let delivery = 0;
  const result = await autocannon({
    url: `${url}/api/github/webhooks`,
    connections: CONNECTIONS,
    duration: seconds,
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-hub-signature-256": signature,
    },
    // A fresh delivery id per request: a repeated one is a redelivery, which stores nothing.
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, "x-github-delivery": `${label}-${++delivery}` },
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${label}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return { rps: result.requests.average, p99: result.latency.p99 } satisfies Round;
}

/** Stored bytes per inbox entry: the inbox table's pages (with its indexes) over its rows. */
function storedBytesPerDelivery(dir: string): number | null {
  const db = new Database(join(dir, "deploybot.sqlite"), { readonly: true });
  try {
    const rows = (db.prepare("SELECT count(*) AS n FROM inbox").get() as { n: number }).n;
    const pages = db
      .prepare(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = 'inbox' OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'inbox' AND type = 'index')",
      )
      .get() as { bytes: number | null };
    return rows > 0 && pages.bytes ? pages.bytes / rows : null;
  } finally {
    db.close();
  }
}

export async function benchIngest(
  options: { rounds?: number; seconds?: number; nodeArgs?: string[] } = {},
): Promise<IngestResult> {
  const rounds = options.rounds ?? 3;
  const seconds = options.seconds ?? 5;
  const body = JSON.stringify(mergedPullRequest());
  const signature = await sign(BENCH_SECRET, body);
  // The worker polls once an hour: this measures answering GitHub, not deploying.
  const deploybot = await startDeploybot({ DEPLOYBOT_WORKER_POLL_MS: "3600000" }, options.nodeArgs);
  let baseline: Child | undefined;
  try {
    baseline = await startBaseline(options.nodeArgs);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rss_idle_mb = deploybot.rssMb();
    // Warm both up (JIT, connections, SQLite pages), then alternate.
    await load(deploybot.url, body, signature, "warm-d", 1);
    await load(baseline.url, body, signature, "warm-b", 1);
    const ours: Round[] = [];
    const theirs: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(await load(deploybot.url, body, signature, `d${i}`, seconds));
      theirs.push(await load(baseline.url, body, signature, `b${i}`, seconds));
    }
    const deploybot_rps = median(ours.map((r) => r.rps));
    const baseline_rps = median(theirs.map((r) => r.rps));
    return {
      deploybot_rps: round(deploybot_rps),
      baseline_rps: round(baseline_rps),
      ratio: round(deploybot_rps / baseline_rps, 2),
      p99_ms: median(ours.map((r) => r.p99)),
      baseline_p99_ms: median(theirs.map((r) => r.p99)),
      bytes_per_delivery: await deploybot.stop().then(() => {
        const bytes = storedBytesPerDelivery(deploybot.dir);
        return bytes === null ? null : round(bytes);
      }),
      payload_bytes: Buffer.byteLength(body),
      rss_idle_mb: round(rss_idle_mb, 1),
    };
  } finally {
    await Promise.all([deploybot.stop(), baseline?.stop()]);
  }
}
