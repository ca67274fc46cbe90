import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../store/store.js";
import { THREAD_STATUSES } from "../thread/events.js";

/**
 * What deploybot exports at `GET /metrics` (Prometheus' text format), in one registry per process.
 * Counters and histograms count what this replica did; the gauges read from the store at each
 * scrape, so every replica reports the same inbox and threads. docs/operations.md lists them all.
 */

export type ExternalService = "github" | "slack" | "model";

/** When the oldest still-queued inbox entry was received (ISO time), or null when none is queued. */
export interface OldestQueuedSource {
  oldestQueuedInboxAt(): Promise<string | null>;
}

export interface Metrics {
  readonly registry: Registry;
  readonly webhooks: Counter<"event" | "outcome">;
  readonly inboxEnqueued: Counter<"source" | "outcome">;
  readonly inboxHandled: Counter<"source" | "outcome">;
  readonly inboxWait: Histogram<"source">;
  readonly decisions: Counter<"decider" | "model" | "intent">;
  readonly decisionLatency: Histogram<"decider" | "model">;
  readonly decisionTokens: Histogram<"decider" | "model" | "direction">;
  readonly policyVerdicts: Counter<"verdict">;
  readonly deploys: Counter<"component" | "environment" | "outcome">;
  readonly deployDuration: Histogram<"component" | "environment" | "outcome">;
  readonly approvalWait: Histogram<"outcome">;
  readonly externalErrors: Counter<"service" | "status">;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  /** Registers the gauges read from the store at scrape time (once per store). */
  observeStore(store: Store, oldestQueued?: OldestQueuedSource | null): void;
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LONG_SECONDS = [10, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400];
const WAIT_SECONDS = [60, 300, 900, 1_800, 3_600, 7_200, 14_400, 43_200, 86_400, 172_800];
const TOKENS = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const observed = new WeakSet<Store>();

  const metrics: Metrics = {
    registry,
    webhooks: new Counter({
      name: "deploybot_webhooks_received_total",
      help: "GitHub webhook requests by event and outcome (accepted, rejected, error).",
      labelNames: ["event", "outcome"],
      registers,
    }),
    inboxEnqueued: new Counter({
      name: "deploybot_inbox_enqueued_total",
      help: "Inbox entries offered by source: stored, or a duplicate delivery ignored.",
      labelNames: ["source", "outcome"],
      registers,
    }),
    inboxHandled: new Counter({
      name: "deploybot_inbox_entries_handled_total",
      help: "Inbox entries the worker finished: done, retried (failed, will run again), deferred (its thread was busy elsewhere; not an attempt) or dead (given up).",
      labelNames: ["source", "outcome"],
      registers,
    }),
    inboxWait: new Histogram({
      name: "deploybot_inbox_wait_seconds",
      help: "Time from an inbox entry's receipt to the worker claiming it.",
      labelNames: ["source"],
      buckets: SECONDS,
      registers,
    }),
    decisions: new Counter({
      name: "deploybot_decisions_total",
      help: "Decisions by decider, model and intent (intent error: no usable answer).",
      labelNames: ["decider", "model", "intent"],
      registers,
    }),
    decisionLatency: new Histogram({
      name: "deploybot_decision_latency_seconds",
      help: "How long a decision took, by decider and model.",
      labelNames: ["decider", "model"],
      buckets: SECONDS,
      registers,
    }),
    decisionTokens: new Histogram({
      name: "deploybot_decision_tokens",
      help: "Tokens per decision, by decider, model and direction (in: prompt, out: completion).",
      labelNames: ["decider", "model", "direction"],
      buckets: TOKENS,
      registers,
    }),
    policyVerdicts: new Counter({
      name: "deploybot_policy_verdicts_total",
      help: "The policy's verdicts on proposed steps: authorized, approval_required, deferred, refused.",
      labelNames: ["verdict"],
      registers,
    }),
    deploys: new Counter({
      name: "deploybot_deploys_total",
      help: "Finished deploys by component, environment and outcome.",
      labelNames: ["component", "environment", "outcome"],
      registers,
    }),
    deployDuration: new Histogram({
      name: "deploybot_deploy_duration_seconds",
      help: "From the deploy being authorized to its result, by component, environment and outcome.",
      labelNames: ["component", "environment", "outcome"],
      buckets: LONG_SECONDS,
      registers,
    }),
    approvalWait: new Histogram({
      name: "deploybot_approval_wait_seconds",
      help: "From an approval request to its answer, by outcome (granted, rejected, expired).",
      labelNames: ["outcome"],
      buckets: WAIT_SECONDS,
      registers,
    }),
    externalErrors: new Counter({
      name: "deploybot_external_errors_total",
      help: "Failed calls to GitHub, Slack and the model, by service and status (HTTP status or error code).",
      labelNames: ["service", "status"],
      registers,
    }),
    httpRequests: new Counter({
      name: "deploybot_http_requests_total",
      help: "HTTP requests served, by method, route and status.",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    observeStore(store, oldestQueued) {
      if (observed.has(store)) return;
      observed.add(store);
      new Gauge({
        name: "deploybot_threads",
        help: "Threads by status.",
        labelNames: ["status"],
        registers,
        async collect() {
          const counts = await store.threadCounts();
          for (const status of THREAD_STATUSES) this.set({ status }, counts[status] ?? 0);
        },
      });
      new Gauge({
        name: "deploybot_inbox_entries",
        help: "Inbox entries by state (queued entries wait for the worker).",
        labelNames: ["state"],
        registers,
        async collect() {
          const counts = await store.inboxCounts();
          for (const state of ["queued", "done", "dead"] as const) this.set({ state }, counts[state]);
        },
      });
      new Gauge({
        name: "deploybot_running_deploys",
        help: "Deploys holding a lock (one per repository, component and environment).",
        registers,
        async collect() {
          this.set((await store.listLocks()).length);
        },
      });
      if (oldestQueued) {
        new Gauge({
          name: "deploybot_inbox_oldest_queued_age_seconds",
          help: "Age of the oldest queued inbox entry (0 when none is queued).",
          registers,
          async collect() {
            const at = await oldestQueued.oldestQueuedInboxAt();
            this.set(at ? Math.max(0, (Date.now() - Date.parse(at)) / 1_000) : 0);
          },
        });
      }
    },
  };
  return metrics;
}
