import { join } from "node:path";
import { sampleSha, type SamplePullRequest } from "../src/demo/github-repo-model.js";
import type { GitHubSimulator } from "../src/demo/github-simulator.js";
import { startSampleGitHub } from "../src/demo/run-demo.js";
import { WEBHOOK_PATH } from "../src/http/server.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import type { ThreadStatus } from "../src/thread/events.js";
import { BENCH_SECRET, startDeploybot, type Child } from "./children.js";
import { round } from "./stats.js";

/**
 * deploybot as `npm start` runs it (rules decider, SQLite file, the worker as configured by
 * default) against the demo's simulated GitHub on loopback, whose workflows report at once:
 * merges deployed to staging per minute, decider calls per merge (each call is one `decision` or
 * `decision_error` event), and the process's memory idle and after many threads.
 */

export interface WorkerResult {
  /** Merges handled per minute when 100 arrive at once (most superseded by a newer one). */
  merges_per_minute: number;
  staged_in_sequence: number;
  /** Seconds from a merge to its successful staging deploy, merges one after the other. */
  seconds_to_staging: number;
  llm_calls_one_component: number;
  llm_calls_two_components: number;
  rss_after_threads_mb: number;
  threads: number;
  /** Where the measured merges stood once settled, and how many staging deployments GitHub saw. */
  statuses: Partial<Record<ThreadStatus, number>>;
  staging_deployments: number;
}

const API_TOKEN = "bench-api-token-0123456789abcdef";

function pull(number: number, files: string[]): SamplePullRequest {
  return {
    number,
    title: `Bench change ${number}`,
    body: "A change merged by the benchmark.",
    author: "alice",
    files,
    commit: { sha: sampleSha(`bench ${number}`), message: `Bench change ${number} (#${number})` },
  };
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function threadOf(store: Store, number: number) {
  const all = await store.listThreads({ limit: 10_000 });
  return (
    all.find((t) => t.title.includes(`#${number}`) || t.title.includes(`Bench change ${number}`)) ?? null
  );
}

async function statusIs(store: Store, number: number, statuses: ThreadStatus[]) {
  const summary = await threadOf(store, number);
  return summary && statuses.includes(summary.status) ? summary : null;
}

const decisionsIn = async (store: Store, id: string) =>
  (await store.getThread(id))!.events.filter((e) => e.type === "decision" || e.type === "decision_error")
    .length;

/** Merges one pull request and approves each production step through the REST API until done. */
async function decisionsForMerge(
  deploybot: Child,
  github: GitHubSimulator,
  store: Store,
  pr: SamplePullRequest,
) {
  await github.merge(pr);
  for (;;) {
    const summary = await waitFor(`#${pr.number} to wait or end`, () =>
      statusIs(store, pr.number, ["waiting_for_approval", "done", "failed", "waiting_for_human"]),
    );
    if (summary.status !== "waiting_for_approval") {
      if (summary.status !== "done") throw new Error(`#${pr.number} ended ${summary.status}`);
      return decisionsIn(store, summary.id);
    }
    const response = await fetch(`${deploybot.url}/api/v1/threads/${summary.id}/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: "{}",
    });
    if (!response.ok)
      throw new Error(`approve #${pr.number}: HTTP ${response.status} ${await response.text()}`);
    await waitFor(`#${pr.number} to leave the approval`, () =>
      statusIs(store, pr.number, ["running", "waiting_for_deploy", "done", "failed", "waiting_for_human"]),
    );
  }
}

export async function benchWorker(
  options: { merges?: number; threads?: number } = {},
): Promise<WorkerResult> {
  const merges = options.merges ?? 100;
  const threads = Math.max(merges, options.threads ?? 1_000);
  const github = await startSampleGitHub(0);
  const deploybot = await startDeploybot({
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    DEPLOYBOT_API_TOKENS: `demo:${API_TOKEN}`,
    LOG_LEVEL: "warn",
  });
  github.connect(`${deploybot.url}${WEBHOOK_PATH}`, BENCH_SECRET);
  const store = await openStore(`sqlite:${join(deploybot.dir, "deploybot.sqlite")}`);
  try {
    const llm_calls_one_component = await decisionsForMerge(deploybot, github, store, pull(1, ["api/a.ts"]));
    const llm_calls_two_components = await decisionsForMerge(
      deploybot,
      github,
      store,
      pull(2, ["api/b.ts", "web/b.tsx"]),
    );
    // Merge to staging deployed, one merge after the other, each until its staging deploy succeeded
    // (the thread then waits for the production approval): the latency one merge sees. The simulated
    // GitHub answers at once; Octokit spaces GitHub writes a second apart, as GitHub asks.
    const staging = Math.min(merges, 10);
    const stagingStarted = performance.now();
    for (let n = 0; n < staging; n++) {
      const pr = pull(500 + n, ["api/s.ts"]);
      await github.merge(pr);
      await waitFor(
        `#${pr.number} deployed to staging`,
        () => statusIs(store, pr.number, ["waiting_for_approval"]),
        60_000,
        5,
      );
    }
    const seconds_to_staging = (performance.now() - stagingStarted) / 1_000 / staging;
    // A burst of merges of one component: each thread deploys to staging and stops at the
    // production approval, or waits for the staging lock, or is superseded by a newer merge.
    // Settled: no entry queued and no thread running or deploying.
    const settled = async (count: number) => {
      const [inbox, counts] = await Promise.all([store.inboxCounts(), store.threadCounts()]);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const busy = (counts.running ?? 0) + (counts.waiting_for_deploy ?? 0);
      return inbox.queued === 0 && busy === 0 && total >= count + staging + 2 ? counts : null;
    };
    const started = performance.now();
    for (let n = 0; n < merges; n++) await github.merge(pull(1_000 + n, ["api/c.ts"]));
    const counts = await waitFor(`${merges} merges handled`, () => settled(merges), 600_000);
    const merges_per_minute = merges / ((performance.now() - started) / 60_000);
    const staged = github.repo.deployments.filter((d) => d.environment === "staging").length;
    for (let n = merges; n < threads; n++) await github.merge(pull(1_000 + n, ["api/c.ts"]));
    await waitFor(`${threads} threads`, () => settled(threads), 1_800_000);
    return {
      merges_per_minute: round(merges_per_minute),
      staged_in_sequence: staging,
      seconds_to_staging: round(seconds_to_staging, 1),
      llm_calls_one_component,
      llm_calls_two_components,
      rss_after_threads_mb: round(deploybot.rssMb(), 1),
      threads: threads + staging + 2,
      statuses: counts,
      staging_deployments: staged,
    };
  } finally {
    await store.close();
    await deploybot.stop();
    await github.stop();
  }
}
