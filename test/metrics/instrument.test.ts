import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { octokitReportingErrors } from "../../src/github/octokit.js";
import { countingFetch, instrumentSlack, instrumentStore } from "../../src/metrics/instrument.js";
import { createMetrics, type Metrics } from "../../src/metrics/metrics.js";
import { createSlackClient } from "../../src/slack/client.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { newEvent, type NewEvent } from "../../src/thread/events.js";
import { TestOctokit } from "../helpers/probot.js";
import { deployStep, mergeStart, on, TEST_DECISION_META } from "../helpers/thread-builder.js";

/** The value of one series, or undefined when it was never set. */
async function valueOf(metrics: Metrics, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const matches = (v: { labels: Record<string, unknown> }) =>
    Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value);
  return values.find((v) => matches(v) && !("metricName" in v && String(v.metricName).endsWith("_bucket")))
    ?.value;
}

/** A histogram's observation count and sum for one label set. */
async function histogramOf(metrics: Metrics, name: string, labels: Record<string, string>) {
  const { values } = await metrics.registry.getSingleMetric(name)!.get();
  const pick = (suffix: string) =>
    values.find(
      (v) =>
        "metricName" in v &&
        v.metricName === `${name}_${suffix}` &&
        Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value),
    )?.value;
  return { count: pick("count"), sum: pick("sum") };
}

const T0 = new Date("2026-11-24T12:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1_000);

describe("the instrumented store", () => {
  let store: SqliteStore;
  let metrics: Metrics;
  beforeEach(async () => {
    store = new SqliteStore(":memory:");
    await store.migrate();
    metrics = createMetrics({ defaultMetrics: false });
  });
  afterEach(async () => {
    await store.close();
  });

  it("passes manual locks through to the store unchanged", async () => {
    const observed = instrumentStore(store, metrics);
    const lock = {
      repo: "acme/shop",
      environment: "production",
      component: null,
      reason: "freeze",
      by: "octocat",
    };
    const set = await observed.setManualLock({ ...lock, at: T0 });
    expect(set).toEqual({ created: true, lock: { ...lock, at: T0.toISOString() } });
    expect(await store.listManualLocks("acme/shop")).toEqual([set.lock]);
    expect(await observed.listManualLocks()).toEqual([set.lock]);
    expect(await observed.removeManualLock("acme/shop", "production", null)).toEqual(set.lock);
    expect(await store.listManualLocks()).toEqual([]);
  });

  it("counts stored and duplicate deliveries, and entries done, retried and given up", async () => {
    const observed = instrumentStore(store, metrics);
    for (const id of ["d1", "d2", "d1"]) {
      await observed.enqueue(
        { deliveryId: id, source: "github", kind: "pull_request.closed", payload: {} },
        T0,
      );
    }
    const first = await observed.claimInbox("w", at(2), 60_000);
    await observed.finishInbox(first!.id, "done", null, at(3));
    const second = await observed.claimInbox("w", at(4), 60_000);
    await observed.retryInbox(second!.id, "boom", at(5));
    const again = await observed.claimInbox("w", at(6), 60_000);
    await observed.finishInbox(again!.id, "dead", "boom", at(7));

    expect(await valueOf(metrics, "deploybot_inbox_enqueued_total", { outcome: "stored" })).toBe(2);
    expect(await valueOf(metrics, "deploybot_inbox_enqueued_total", { outcome: "duplicate" })).toBe(1);
    for (const outcome of ["done", "retried", "dead"]) {
      expect(
        await valueOf(metrics, "deploybot_inbox_entries_handled_total", { source: "github", outcome }),
      ).toBe(1);
    }
    expect(await histogramOf(metrics, "deploybot_inbox_wait_seconds", { source: "github" })).toEqual({
      count: 2,
      sum: 6,
    });
  });

  it("reads decisions, verdicts, approval waits and deploy results from the appended events", async () => {
    const observed = instrumentStore(store, metrics);
    await observed.createThread(
      { id: "th_1", repo: "acme/shop", installationId: 1, title: "t" },
      mergeStart(),
      T0,
    );
    let seq = 3;
    const append = async (seconds: number, ...events: NewEvent[]) => {
      const stored = await observed.appendEvents("th_1", seq, events, at(seconds));
      seq = stored.at(-1)!.seq;
      return stored;
    };
    const step = deployStep("backend", "production");
    await append(
      10,
      newEvent("decision", {
        ...TEST_DECISION_META,
        decider: "openai",
        model: "gpt-x",
        tokens_in: 900,
        tokens_out: 40,
        latency_ms: 1_500,
        step,
      }),
    );
    await append(11, on.approvalRequested(step, "ap_9"));
    await append(311, on.approvalGranted("ap_9"));
    const [authorized] = await append(312, on.authorized("deploy", "backend", "production"));
    await append(
      313,
      newEvent("deployment_created", {
        step_seq: authorized!.seq,
        deployment_id: 77,
        component: "backend",
        environment: "production",
        sha: "0123456789abcdef0123456789abcdef01234567",
      }),
    );
    await append(432, on.finished("backend", "production", "failure", { deploymentId: 77 }));
    await new Promise((resolve) => setImmediate(resolve));

    expect(
      await valueOf(metrics, "deploybot_decisions_total", {
        decider: "openai",
        model: "gpt-x",
        intent: "deploy_backend",
      }),
    ).toBe(1);
    expect(await histogramOf(metrics, "deploybot_decision_latency_seconds", { model: "gpt-x" })).toEqual({
      count: 1,
      sum: 1.5,
    });
    expect(await histogramOf(metrics, "deploybot_decision_tokens", { direction: "in" })).toEqual({
      count: 1,
      sum: 900,
    });
    expect(await valueOf(metrics, "deploybot_policy_verdicts_total", { verdict: "approval_required" })).toBe(
      1,
    );
    expect(await valueOf(metrics, "deploybot_policy_verdicts_total", { verdict: "authorized" })).toBe(1);
    expect(await histogramOf(metrics, "deploybot_approval_wait_seconds", { outcome: "granted" })).toEqual({
      count: 1,
      sum: 300,
    });
    expect(
      await valueOf(metrics, "deploybot_deploys_total", {
        component: "backend",
        environment: "production",
        outcome: "failure",
      }),
    ).toBe(1);
    expect(await histogramOf(metrics, "deploybot_deploy_duration_seconds", { outcome: "failure" })).toEqual({
      count: 1,
      sum: 120,
    });
  });

  it("leaves the store's answers unchanged", async () => {
    const observed = instrumentStore(store, metrics);
    expect(
      await observed.enqueue({ deliveryId: "x", source: "api", kind: "api.launch", payload: { a: 1 } }, T0),
    ).toBe(true);
    expect(await observed.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
    expect(await observed.getThread("missing")).toBeNull();
  });

  it("reports threads, the inbox and running deploys from the store at each scrape", async () => {
    metrics.observeStore(store);
    await store.enqueue({ deliveryId: "q", source: "slack", kind: "slack.action", payload: {} }, T0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('deploybot_inbox_entries{state="queued"} 1');
    expect(text).toContain('deploybot_threads{status="running"} 0');
    expect(text).toContain("deploybot_running_deploys 0");
  });
});

describe("failed calls to other services", () => {
  it("count GitHub errors by status once the call has failed", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const Octokit = octokitReportingErrors(TestOctokit, (status) =>
      metrics.externalErrors.inc({ service: "github", status }),
    );
    const scope = nock("https://api.github.com")
      .get("/repos/acme/shop")
      .reply(502, { message: "Bad Gateway" });

    await expect(
      new Octokit({ auth: "t" }).rest.repos.get({ owner: "acme", repo: "shop" }),
    ).rejects.toMatchObject({ status: 502 });

    expect(scope.isDone()).toBe(true);
    expect(
      await valueOf(metrics, "deploybot_external_errors_total", { service: "github", status: "502" }),
    ).toBe(1);
  });

  it("count Slack errors by their error code", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const slack = instrumentSlack(
      createSlackClient({ token: "xoxb-test", apiUrl: "https://slack.test/api/", retries: 0 }),
      metrics,
    );
    const scope = nock("https://slack.test")
      .post("/api/chat.postMessage")
      .reply(200, { ok: false, error: "channel_not_found" });

    await expect(slack.postMessage({ channel: "C01", text: "hi" })).rejects.toThrow();

    expect(scope.isDone()).toBe(true);
    expect(
      await valueOf(metrics, "deploybot_external_errors_total", {
        service: "slack",
        status: "channel_not_found",
      }),
    ).toBe(1);
  });

  it("count the model server's error answers by HTTP status", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const scope = nock("https://models.test")
      .post("/v1/chat/completions")
      .reply(429, { error: { message: "slow down" } });

    const response = await countingFetch("model", metrics)("https://models.test/v1/chat/completions", {
      method: "POST",
      body: "{}",
    });

    expect(response.status).toBe(429);
    expect(scope.isDone()).toBe(true);
    expect(
      await valueOf(metrics, "deploybot_external_errors_total", { service: "model", status: "429" }),
    ).toBe(1);
  });
});

describe("the metrics registry", () => {
  it("includes Node's default process metrics", async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
