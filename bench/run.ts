/**
 * `npm run bench`: every figure of bench/results.json in one run (numbers, not assertions: the
 * machine is shared and noisy), printed with its target. See docs/performance.md.
 *
 * Knobs: BENCH_DATABASE_URL (or TEST_DATABASE_URL) adds PostgreSQL appends; BENCH_THREADS (default
 * 1000) sets how many threads the worker run leaves behind before memory is read.
 */
import { writeFileSync } from "node:fs";
import { buildDeploybot } from "./children.js";
import { benchContext } from "./context.js";
import { benchIngest } from "./ingest.js";
import { printTable, type Results } from "./report.js";
import { benchStore } from "./store.js";
import { benchThreadParses } from "./thread.js";
import { benchWorker } from "./worker.js";

const step = (name: string) => console.error(`bench: ${name}...`);

step("build (deploybot runs from dist/, as npm start runs it)");
buildDeploybot();
step("ingest (deploybot and bare Probot, alternating)");
const ingest = await benchIngest();
step("store appends");
const store = await benchStore(process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL);
step("context tokens over the eval cases");
const context = await benchContext();
step("worker against the simulated GitHub");
const worker = await benchWorker({ merges: 100, threads: Number(process.env.BENCH_THREADS || 1_000) });
// Last: nock stays loaded in this process once the harness is imported.
step("event parses on a Slack approve click");
const thread = await benchThreadParses();

const results: Results = {
  ingest: {
    deploybot_rps: ingest.deploybot_rps,
    baseline_rps: ingest.baseline_rps,
    ratio: ingest.ratio,
    p99_ms: ingest.p99_ms,
    bytes_per_delivery: ingest.bytes_per_delivery,
  },
  store: { ...store },
  thread: { event_parses_per_append: thread.event_parses_per_append },
  context: { ...context },
  decisions: {
    llm_calls_one_component: worker.llm_calls_one_component,
    llm_calls_two_components: worker.llm_calls_two_components,
  },
  worker: { merges_per_minute: worker.merges_per_minute },
  memory: { rss_idle_mb: ingest.rss_idle_mb, rss_after_1000_threads_mb: worker.rss_after_threads_mb },
};
writeFileSync(new URL("./results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
printTable(results);
console.log(
  `\ncontext: payload ${ingest.payload_bytes} B; baseline p99 ${ingest.baseline_p99_ms} ms; ` +
    `${thread.parses} stored-event parses (and ${thread.validations} validations of new events) for ${thread.appended} appended events; ` +
    `worker: ${worker.staged_in_sequence} merges one after the other took ${worker.seconds_to_staging} s each from merge to staging deployed ` +
    `(three GitHub writes, which Octokit spaces a second apart); the 100 merges at once ended ${JSON.stringify(worker.statuses)} ` +
    `with ${worker.staging_deployments} staging deployments (newer merges supersede older ones); ${worker.threads} threads.`,
);
