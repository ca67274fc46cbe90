import type { Probot, ProbotOctokit } from "probot";
import { createApp } from "../../src/app.js";
import type { Decider } from "../../src/agent/decide.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import type { Log } from "../../src/log.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { WorkerDeps } from "../../src/worker/deps.js";
import { processNextEntry } from "../../src/worker/entries.js";
import { APP_ID, createTestProbot } from "./probot.js";

export { APP_ID };

/**
 * The whole app in one process, for tests: a real Probot with real app authentication (a fresh
 * RSA key; GitHub itself is nock), an in-memory SQLite store, the worker run by hand.
 */

/** A log that remembers its lines, so tests can assert on what an operator would see. */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (fields: object, message: string) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
  return {
    lines,
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
  };
}

export interface Harness {
  store: SqliteStore;
  probot: Probot;
  worker: WorkerDeps;
  log: Log & { lines: string[] };
  now: { value: Date };
  /** Delivers a webhook as Probot would (signature already checked) and runs the worker until idle. */
  deliver(name: string, payload: unknown, deliveryId?: string): Promise<void>;
  runWorker(): Promise<number>;
}

let deliveries = 0;

export async function createHarness(
  options: { decider?: Decider; Octokit?: typeof ProbotOctokit; prComments?: boolean } = {},
): Promise<Harness> {
  const store = new SqliteStore(":memory:");
  await store.migrate();
  const now = { value: new Date("2026-11-24T12:00:00Z") };
  const clock = () => now.value;
  const probot = createTestProbot(options.Octokit ? { Octokit: options.Octokit } : {});
  await probot.load(createApp({ store, clock }), { cwd: process.cwd(), addHandler: () => {} });
  const log = recordingLog();
  const worker: WorkerDeps = {
    store,
    decider: options.decider ?? createRulesDecider(),
    clock,
    log,
    octokitFor: (installationId) => probot.auth(installationId),
    appId: APP_ID,
    pollMs: 10,
    prComments: options.prComments ?? false,
  };
  const runWorker = async () => {
    let handled = 0;
    while (await processNextEntry(worker)) handled += 1;
    return handled;
  };
  return {
    store,
    probot,
    worker,
    log,
    now,
    runWorker,
    async deliver(name, payload, deliveryId = `delivery-${++deliveries}`) {
      await probot.receive({ id: deliveryId, name, payload } as unknown as Parameters<Probot["receive"]>[0]);
      await runWorker();
    },
  };
}
