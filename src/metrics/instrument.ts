import type { SlackPort } from "../slack/client.js";
import { decorateStore } from "../store/decorate-store.js";
import type { InboxEntry, InboxSource, Store } from "../store/store.js";
import type { ThreadEvent } from "../thread/events.js";
import type { ExternalService, Metrics } from "./metrics.js";
import { clip } from "../thread/text.js";

/**
 * Metrics observed at the edges, without the worker or the loop knowing: a store decorator reads
 * what the worker claims and finishes and the events it appends (decisions, verdicts, approvals,
 * deploy results); wrappers count the failed calls to Slack and the model.
 */

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1_000);

/** The policy's verdict each of these events records. */
const POLICY_VERDICT_OF: Partial<Record<ThreadEvent["type"], string>> = {
  policy_refused: "refused",
  step_deferred: "deferred",
  approval_requested: "approval_required",
  deploy_authorized: "authorized",
};

/** Counts and times what one batch of appended events says. `earlier` is the thread before it. */
export function observeEvents(
  metrics: Metrics,
  events: readonly ThreadEvent[],
  earlier: () => Promise<readonly ThreadEvent[]>,
) {
  let history: Promise<readonly ThreadEvent[]> | undefined;
  const before = () => (history ??= earlier());
  const pending: Promise<void>[] = [];
  for (const event of events) {
    const verdict = POLICY_VERDICT_OF[event.type];
    if (verdict) metrics.policyVerdicts.inc({ verdict });
    switch (event.type) {
      case "decision":
      case "decision_error": {
        const { decider, model } = event.data;
        const intent = event.type === "decision" ? event.data.step.intent : "error";
        metrics.decisions.inc({ decider, model, intent });
        metrics.decisionLatency.observe({ decider, model }, event.data.latency_ms / 1_000);
        if (event.data.tokens_in !== null)
          metrics.decisionTokens.observe({ decider, model, direction: "in" }, event.data.tokens_in);
        if (event.data.tokens_out !== null)
          metrics.decisionTokens.observe({ decider, model, direction: "out" }, event.data.tokens_out);
        break;
      }
      case "approval_granted":
      case "approval_rejected":
      case "approval_expired": {
        const outcome = event.type.slice("approval_".length);
        const approvalId = event.data.approval_id;
        pending.push(
          before().then((all) => {
            const requested = [...all, ...events].find(
              (e) => e.type === "approval_requested" && e.data.approval_id === approvalId,
            );
            if (requested) metrics.approvalWait.observe({ outcome }, seconds(requested.at, event.at));
          }),
        );
        break;
      }
      case "deploy_finished": {
        const { component, environment, outcome, deployment_id: deploymentId } = event.data;
        metrics.deploys.inc({ component, environment, outcome });
        pending.push(
          before().then((all) => {
            const thread = [...all, ...events];
            const created = thread.find(
              (e) => e.type === "deployment_created" && e.data.deployment_id === deploymentId,
            );
            const start =
              created && created.type === "deployment_created"
                ? thread.find((e) => e.seq === created.data.step_seq)
                : [...thread]
                    .reverse()
                    .find(
                      (e) =>
                        e.seq < event.seq &&
                        e.type === "deploy_authorized" &&
                        e.data.component === component &&
                        e.data.environment === environment,
                    );
            if (start)
              metrics.deployDuration.observe(
                { component, environment, outcome },
                seconds(start.at, event.at),
              );
          }),
        );
        break;
      }
      default:
        break;
    }
  }
  return Promise.all(pending).then(() => undefined);
}

/** The store, observed: inbox claims and outcomes, appended events. Behaviour is unchanged. */
export function instrumentStore(
  store: Store,
  metrics: Metrics,
  hooks: {
    onClaim?: (entry: InboxEntry) => void | Promise<void>;
    onObserveError?: (error: unknown) => void;
  } = {},
): Store {
  const claimed = new Map<number, InboxSource>();
  const handled = (id: number, outcome: string) => {
    metrics.inboxHandled.inc({ source: claimed.get(id) ?? "unknown", outcome });
    claimed.delete(id);
  };
  const instrumented: Partial<Store> = {
    async enqueue(entry, now) {
      const stored = await store.enqueue(entry, now);
      metrics.inboxEnqueued.inc({ source: entry.source, outcome: stored ? "stored" : "duplicate" });
      return stored;
    },
    async claimInbox(workerId, now, leaseMs, options) {
      const entry = await store.claimInbox(workerId, now, leaseMs, options);
      if (entry) {
        claimed.set(entry.id, entry.source);
        // An entry whose lease lapsed is finished elsewhere: keep the map bounded.
        if (claimed.size > 10_000) claimed.delete(claimed.keys().next().value!);
        await Promise.resolve(hooks.onClaim?.(entry)).catch(hooks.onObserveError ?? (() => {}));
        if (entry.attempts <= 1)
          metrics.inboxWait.observe({ source: entry.source }, seconds(entry.receivedAt, now.toISOString()));
      }
      return entry;
    },
    async finishInbox(id, outcome, note, now) {
      await store.finishInbox(id, outcome, note, now);
      handled(id, outcome);
    },
    async retryInbox(id, error, retryAt) {
      await store.retryInbox(id, error, retryAt);
      handled(id, "retried");
    },
    async deferInbox(id, note, retryAt) {
      await store.deferInbox(id, note, retryAt);
      handled(id, "deferred");
    },
    async appendEvents(threadId, expectedSeq, events, now, prior) {
      const appended = await store.appendEvents(threadId, expectedSeq, events, now, prior);
      // Observing never fails or slows the append: the earlier events are the caller's, or are read
      // afterwards, on the side.
      observeEvents(metrics, appended, async () =>
        prior ? [...prior, ...appended] : ((await store.getThread(threadId))?.events ?? []),
      ).catch(hooks.onObserveError ?? (() => {}));
      return appended;
    },
  };
  return decorateStore(store, instrumented);
}

/** The label of a failed call: its HTTP status, or the error's code. */
export function errorStatus(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const { status, code } = error as { status?: unknown; code?: unknown };
    if (typeof status === "number") return String(status);
    if (typeof code === "string" && code.length > 0) return clip(code, 40);
  }
  return "network";
}

/** Slack, counted: every call that throws adds one error with its Slack error code. */
export function instrumentSlack(slack: SlackPort, metrics: Metrics): SlackPort {
  return new Proxy(slack, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          metrics.externalErrors.inc({ service: "slack", status: errorStatus(error) });
          throw error;
        }
      };
    },
  });
}

/**
 * A fetch that counts failed answers (status 400 and above) and failed connections of a service;
 * given to the model's client, whose decider turns every failure into a compact error instead.
 */
export function countingFetch(
  service: ExternalService,
  metrics: Metrics,
  inner: typeof fetch = fetch,
): typeof fetch {
  return async (input, init) => {
    try {
      const response = await inner(input, init);
      if (response.status >= 400) metrics.externalErrors.inc({ service, status: String(response.status) });
      return response;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      metrics.externalErrors.inc({ service, status: /timeout|abort/i.test(name) ? "timeout" : "network" });
      throw error;
    }
  };
}
