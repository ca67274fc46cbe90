/**
 * Benchmarks (run with `npm run bench`; numbers, not assertions: this machine is shared and noisy).
 *
 * 1. Webhook acknowledgement: signed merge webhooks into a real server with a SQLite file store;
 *    the time until GitHub would get its answer (it should be milliseconds; GitHub allows 10 s).
 * 2. Thread appends: conditional appends with the derived status recomputed, per event.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { createApp } from "../src/app.js";
import { startHttpServer } from "../src/http/server.js";
import { silentLog } from "../src/log.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { newEvent, type ThreadEvent } from "../src/thread/events.js";

const SECRET = "bench-secret";
const WEBHOOKS = 2_000;
const APPENDS = 2_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(name: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(
    `${name}: n=${samples.length} mean=${mean.toFixed(2)}ms p50=${percentile(sorted, 50).toFixed(2)}ms p95=${percentile(sorted, 95).toFixed(2)}ms p99=${percentile(sorted, 99).toFixed(2)}ms max=${sorted.at(-1)!.toFixed(2)}ms`,
  );
}

async function webhookAck(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-bench-"));
  const store = new SqliteStore(join(dir, "bench.sqlite"));
  await store.migrate();
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const server = await startHttpServer({
    probot: new Probot({
      appId: 1,
      privateKey,
      secret: SECRET,
      Octokit: ProbotOctokit,
      log: pino({ level: "silent" }),
    }),
    app: createApp({ store, clock: () => new Date() }),
    host: "127.0.0.1",
    port: 0,
    log: silentLog,
  });
  const require = createRequire(import.meta.url);
  const examples = JSON.parse(
    readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
  ) as { name: string; examples: Record<string, unknown>[] }[];
  const payload = examples
    .find((e) => e.name === "pull_request")!
    .examples.find((e) => e.action === "closed")!;
  (payload.pull_request as Record<string, unknown>).merged = true;
  const body = JSON.stringify(payload);
  const signature = await sign(SECRET, body);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  for (let i = 0; i < WEBHOOKS; i++) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(
        `${server.url}/api/github/webhooks`,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": `bench-${i}`,
            "x-hub-signature-256": signature,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    samples.push(performance.now() - started);
  }
  agent.destroy();
  report(`webhook ack (${Buffer.byteLength(body)} B payload, SQLite WAL file)`, samples);
  console.log(`  inbox after: ${JSON.stringify(await store.inboxCounts())}`);
  const stored = new Database(join(dir, "bench.sqlite"), { readonly: true })
    .prepare("SELECT AVG(LENGTH(payload)) AS bytes FROM inbox")
    .get() as { bytes: number };
  console.log(
    `  stored per delivery: ${Math.round(stored.bytes)} B of a ${Buffer.byteLength(body)} B payload`,
  );
  await server.close();
  await store.close();
}

async function appends(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-bench-"));
  const store = new SqliteStore(join(dir, "appends.sqlite"));
  await store.migrate();
  const at = new Date();
  await store.createThread({ id: "th_bench", repo: "acme/shop", installationId: 1, title: "bench" }, [], at);
  const samples: number[] = [];
  for (let seq = 0; seq < APPENDS; seq++) {
    const started = performance.now();
    await store.appendEvents(
      "th_bench",
      seq,
      [newEvent("human_answered", { answer: `answer ${seq}`, slack_user: "U1" })],
      at,
    );
    samples.push(performance.now() - started);
  }
  report(`thread append (status re-derived over up to ${APPENDS} events, read back)`, samples);

  // As the runner appends: it passes the events it already holds, so nothing is read back.
  await store.createThread({ id: "th_known", repo: "acme/shop", installationId: 1, title: "bench" }, [], at);
  let events: ThreadEvent[] = [];
  const known: number[] = [];
  for (let seq = 0; seq < APPENDS; seq++) {
    const started = performance.now();
    const added = await store.appendEvents(
      "th_known",
      seq,
      [newEvent("human_answered", { answer: `answer ${seq}`, slack_user: "U1" })],
      at,
      events,
    );
    known.push(performance.now() - started);
    events = [...events, ...added];
  }
  report(`thread append (status derived from the caller's ${APPENDS} events, no read back)`, known);
  await store.close();
}

await webhookAck();
await appends();
