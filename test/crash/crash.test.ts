import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { Thread } from "../../src/thread/events.js";
import { deriveState, type ThreadState } from "../../src/thread/state.js";
import { clickBody } from "../helpers/app-server.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import { CONFIG_NO_APPROVAL_YAML, CONFIG_YAML } from "../helpers/github-mocks.js";
import { AppProcess, assertNoDotEnv, waitFor, type AppOptions } from "./app-process.js";
import type { RecordedRequest } from "./fake-server.js";
import { FakeGitHub, FakeModel, FakeSlack } from "./fakes.js";

/**
 * Crash safety with real processes: deploybot is SIGKILLed at a precise moment of a deploy (just
 * after the webhook's ack, during a decision, between creating a deployment and dispatching its
 * workflow, while an approval is pending), restarted on the same SQLite file, and the deploy must
 * end as if nothing happened: every GitHub deployment created once, every workflow dispatched once,
 * every inbox entry handled.
 */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const TEST_TIMEOUT_MS = 60_000;

interface Scenario {
  dir: string;
  databasePath: string;
  github: FakeGitHub;
  model: FakeModel | null;
  slack: FakeSlack | null;
  apps: AppProcess[];
  store: SqliteStore | null;
}

let scenario: Scenario | undefined;

beforeAll(() => assertNoDotEnv());

afterEach(async () => {
  const current = scenario;
  scenario = undefined;
  if (!current) return;
  await Promise.all(current.apps.map((app) => app.kill()));
  await Promise.all([current.github, current.model, current.slack].map((fake) => fake?.close()));
  await current.store?.close();
  rmSync(current.dir, { recursive: true, force: true });
});

async function setUp(options: { config: string; model?: boolean; slack?: boolean }): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-crash-"));
  scenario = {
    dir,
    databasePath: join(dir, "db.sqlite"),
    github: new FakeGitHub({ configYaml: options.config, files: ["api/cart.ts"], sha: MERGE_SHA }),
    model: options.model ? new FakeModel() : null,
    slack: options.slack ? new FakeSlack(["U02RELEASER"]) : null,
    apps: [],
    store: null,
  };
  await Promise.all([scenario.github.start(), scenario.model?.start(), scenario.slack?.start()]);
  return scenario;
}

function current(): Scenario {
  if (!scenario) throw new Error("no scenario: call setUp first");
  return scenario;
}

async function startApp(label: string, options: Partial<AppOptions> = {}): Promise<AppProcess> {
  const s = current();
  const app = await AppProcess.start(label, {
    databasePath: s.databasePath,
    githubHost: s.github.host,
    ...(s.model ? { modelUrl: s.model.url } : {}),
    ...(s.slack ? { slackUrl: s.slack.url } : {}),
    ...options,
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${describeApps()}`);
  });
  s.apps.push(app);
  return app;
}

function describeApps(): string {
  return current()
    .apps.map((app) => app.describe())
    .join("\n");
}

/** The test's own connection to the database the processes share (WAL: it reads while they run). */
async function store(): Promise<SqliteStore> {
  const s = current();
  if (!s.store) {
    s.store = new SqliteStore(s.databasePath);
    await s.store.migrate();
  }
  return s.store;
}

async function thread(): Promise<Thread | null> {
  return (await store()).getThread(THREAD_ID);
}

/** Everything a failed wait should show: the thread, the inbox, the calls to the fakes, the processes' output. */
async function diagnostics(): Promise<string> {
  const s = current();
  const t = await thread().catch(() => null);
  const inbox = await (await store()).inboxCounts().catch((error: unknown) => String(error));
  const lines = [
    `thread: ${t ? `${deriveState(t.events).status}: ${t.events.map((e) => e.type).join(", ")}` : "none"}`,
    `inbox: ${JSON.stringify(inbox)}`,
    `GitHub requests:\n${s.github.describe() || "(none)"}`,
  ];
  if (s.model) lines.push(`model requests: ${s.model.completions.length}`);
  if (s.slack) lines.push(`Slack calls: ${s.slack.calls.map((c) => c.method).join(", ") || "(none)"}`);
  lines.push(describeApps());
  return lines.join("\n");
}

async function waitForThread(
  what: string,
  predicate: (thread: Thread, state: ThreadState) => boolean,
): Promise<Thread> {
  return waitFor(
    `the thread to reach: ${what}`,
    async () => {
      const t = await thread();
      return t && predicate(t, deriveState(t.events)) ? t : null;
    },
    { context: diagnostics },
  );
}

/**
 * Waits until every inbox entry is handled (entries a killed process held come back when their lease
 * lapses). Besides the deliveries, each finished deploy queues one internal entry: its lock's release.
 */
async function waitForInboxDone(): Promise<Record<"queued" | "done" | "dead", number>> {
  return waitFor(
    "every inbox entry to be handled",
    async () => {
      const counts = await (await store()).inboxCounts();
      return counts.queued === 0 ? counts : null;
    },
    { context: diagnostics },
  );
}

/** Resolves when a fake's kill trap fired and the process is gone; fails with diagnostics after a deadline. */
async function trapped(trap: Promise<RecordedRequest>, what: string): Promise<RecordedRequest> {
  const timeoutMs = 20_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void diagnostics().then((d) =>
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${d}`)),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([trap, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function countOf(t: Thread, type: string): number {
  return t.events.filter((e) => e.type === type).length;
}

function dispatchedFor(t: Thread, environment: string): boolean {
  const created = t.events.find(
    (e) => e.type === "deployment_created" && e.data.environment === environment,
  ) as { data: { deployment_id: number } } | undefined;
  return (
    created !== undefined &&
    t.events.some(
      (e) => e.type === "deploy_dispatched" && e.data.deployment_id === created.data.deployment_id,
    )
  );
}

/**
 * Exactly one GitHub deployment per environment deployed, each with exactly one workflow dispatch,
 * and the thread records exactly those, once each.
 */
function expectDeployedOnce(t: Thread, environments: string[]): void {
  const { github } = current();
  for (const environment of environments) {
    const created = github.createdIn(environment);
    expect(created, `deployments created in ${environment}`).toHaveLength(1);
    const id = created[0]!.id;
    expect(created[0]!.payload).toMatchObject({ component: "backend", thread_id: THREAD_ID });
    expect(github.dispatchesOf(id), `dispatches of deployment ${id}`).toEqual([
      {
        workflow: "deploy-backend.yml",
        runId: expect.any(Number),
        ref: "main",
        inputs: { environment, sha: MERGE_SHA, component: "backend", deployment_id: String(id) },
      },
    ]);
    const recorded = t.events.filter(
      (e) => e.type === "deployment_created" && e.data.environment === environment,
    );
    expect(recorded.map((e) => (e.data as { deployment_id: number }).deployment_id)).toEqual([id]);
    const dispatched = t.events.filter((e) => e.type === "deploy_dispatched" && e.data.deployment_id === id);
    expect(dispatched).toHaveLength(1);
  }
  expect(github.deployments).toHaveLength(environments.length);
  expect(github.dispatches).toHaveLength(environments.length);
  expect(github.find("POST", /\/statuses$/), "deployment statuses written by deploybot").toEqual([]);
  expect(github.unmatched.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  // One comment on the pull request for the whole deploy, whatever the crashes.
  expect(
    github.comments.map((c) => c.issue),
    "pull request comments",
  ).toEqual([`${OWNER}/${REPO}#7`]);
  expect(github.comments[0]!.body).toContain(`<!-- deploybot:thread=${THREAD_ID} -->`);
}

/** GitHub reports a deployment's final status `success` (the deploy workflow finished). */
async function reportSuccess(app: AppProcess, deploymentId: number): Promise<void> {
  const payload = deploymentStatus({ deploymentId, state: "success" });
  const response = await app.webhook("deployment_status", payload);
  expect(response.status, `deployment_status for ${deploymentId}: ${response.body}`).toBe(200);
}

/** The staging deploy succeeds, production is deployed (no approval), it succeeds: the thread is done. */
async function succeedThroughProduction(app: AppProcess): Promise<Thread> {
  const { github } = current();
  const staging = github.createdIn("staging")[0]!;
  await reportSuccess(app, staging.id);
  await waitForThread("the production deploy dispatched", (t) => dispatchedFor(t, "production"));
  const production = github.createdIn("production")[0]!;
  await reportSuccess(app, production.id);
  return waitForThread("done", (_, state) => state.status === "done");
}

/** attempts per inbox entry, read straight from the table: a taken-over entry was claimed twice. */
function inboxAttempts(databasePath: string): { kind: string; status: string; attempts: number }[] {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT kind, status, attempts FROM inbox ORDER BY id").all() as {
      kind: string;
      status: string;
      attempts: number;
    }[];
  } finally {
    db.close();
  }
}

describe("deploybot killed with SIGKILL and restarted on the same database", () => {
  it(
    "just after the ack: the stored merge is deployed once by the next process",
    async () => {
      const s = await setUp({ config: CONFIG_NO_APPROVAL_YAML });
      // A worker that would not look at the inbox for a minute: the kill lands before any work.
      const first = await startApp("1st", { pollMs: 60_000 });

      const ack = await first.webhook("pull_request", mergedPullRequest());
      await first.kill();

      expect(ack.status).toBe(200);
      expect(await (await store()).inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
      expect(s.github.requests, "GitHub calls before the kill").toEqual([]);
      expect(await thread()).toBeNull();

      const second = await startApp("2nd");
      await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));
      const done = await succeedThroughProduction(second);

      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 5, dead: 0 });
      expectDeployedOnce(done, ["staging", "production"]);
      expect(countOf(done, "pr_merged")).toBe(1);
      expect(countOf(done, "decision")).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "during a decision: the model is asked again and its answer deploys once",
    async () => {
      const s = await setUp({ config: CONFIG_NO_APPROVAL_YAML, model: true });
      const model = s.model!;
      const first = await startApp("1st");
      const killed = model.killOn(
        (r) => r.method === "POST" && r.path === "/v1/chat/completions",
        "kill-without-reply",
        () => first.kill(),
      );

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await trapped(killed, "the first model call (which kills the process)");

      const before = (await thread())!;
      expect(before.events.map((e) => e.type)).toEqual([
        "pr_merged",
        "config_loaded",
        "changes_classified",
        "deployed_versions",
        "ci_state",
      ]);
      expect(await (await store()).inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });

      model.answers.push(
        JSON.stringify({
          intent: "deploy_backend",
          environment: "staging",
          sha: MERGE_SHA,
          reason: "go",
          component: null,
          to_sha: null,
          question: null,
          message: null,
        }),
      );
      await startApp("2nd");
      const after = await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));

      expect(model.completions).toHaveLength(2);
      expect(countOf(after, "decision")).toBe(1);
      expect(countOf(after, "decision_error")).toBe(0);
      expect(after.events.find((e) => e.type === "decision")?.data).toMatchObject({
        decider: "openai",
        step: { intent: "deploy_backend", environment: "staging" },
      });
      // The merge's inbox entry, claimed by the killed worker, is taken over once its lease lapses.
      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 1, dead: 0 });
      expect(inboxAttempts(s.databasePath)).toEqual([
        { kind: "pull_request.closed", status: "done", attempts: 2 },
      ]);
      const final = (await thread())!;
      expect(deriveState(final.events).status).toBe("waiting_for_deploy");
      expectDeployedOnce(final, ["staging"]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "after createDeployment and before the dispatch: the deployment is found, not created again",
    async () => {
      const s = await setUp({ config: CONFIG_NO_APPROVAL_YAML });
      const first = await startApp("1st");
      const killed = s.github.killOn(
        (r) => r.method === "POST" && r.path === `/api/v3/repos/${OWNER}/${REPO}/deployments`,
        "reply-then-kill",
        () => first.kill(),
      );

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await trapped(killed, "the first createDeployment (answered 201, then the process is killed)");

      expect(s.github.deployments).toHaveLength(1);
      expect(s.github.dispatches).toEqual([]);
      const before = (await thread())!;
      expect(countOf(before, "deploy_authorized")).toBe(1);
      expect(countOf(before, "deploy_dispatched")).toBe(0);
      // Almost always the process dies before it records the deployment: then only GitHub knows it.
      const knownLocally = (await (await store()).getDeployment(s.github.deployments[0]!.id)) !== null;
      const seen = s.github.requests.length;

      const second = await startApp("2nd");
      await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));
      if (!knownLocally) {
        const lookups = s.github.requests
          .slice(seen)
          .filter(
            (r) =>
              r.method === "GET" &&
              r.path.endsWith("/deployments") &&
              r.query.get("sha") === MERGE_SHA &&
              r.query.get("environment") === "staging",
          );
        expect(lookups, "the restarted process looks for the step's deployment on GitHub").toHaveLength(1);
      }
      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 1, dead: 0 });
      expect(inboxAttempts(s.databasePath)).toEqual([
        { kind: "pull_request.closed", status: "done", attempts: 2 },
      ]);
      expectDeployedOnce((await thread())!, ["staging"]);

      const done = await succeedThroughProduction(second);
      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 5, dead: 0 });
      expectDeployedOnce(done, ["staging", "production"]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "after the dispatch and before it is recorded: the run is found, the workflow not dispatched again",
    async () => {
      const s = await setUp({ config: CONFIG_NO_APPROVAL_YAML });
      const first = await startApp("1st");
      const killed = s.github.killOn(
        (r) => r.method === "POST" && r.path.endsWith("/actions/workflows/deploy-backend.yml/dispatches"),
        "reply-then-kill",
        () => first.kill(),
      );

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await trapped(killed, "the first dispatch (answered, then the process is killed)");
      expect(s.github.dispatches).toHaveLength(1);
      // Almost always the process dies before it records the dispatch: then only GitHub knows the run.
      const recorded = countOf((await thread())!, "deploy_dispatched") > 0;
      const seen = s.github.requests.length;

      await startApp("2nd");
      const after = await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));
      if (!recorded) {
        const runLookups = s.github.requests
          .slice(seen)
          .filter((r) => r.method === "GET" && r.path.endsWith("/actions/workflows/deploy-backend.yml/runs"));
        expect(runLookups, "the restarted process looks for the run of the earlier dispatch").toHaveLength(1);
      }

      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 1, dead: 0 });
      expectDeployedOnce((await thread())!, ["staging"]);
      const dispatched = after.events.find((e) => e.type === "deploy_dispatched")!;
      expect(dispatched.data).toMatchObject({ run_id: s.github.dispatches[0]!.runId });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "while waiting for an approval: a click on the next process deploys production once",
    async () => {
      const s = await setUp({ config: CONFIG_YAML, slack: true });
      const slack = s.slack!;
      const first = await startApp("1st");

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));
      const staging = s.github.createdIn("staging")[0]!;
      await reportSuccess(first, staging.id);
      await waitForThread(
        "waiting for approval, its card posted",
        (t, state) =>
          state.status === "waiting_for_approval" &&
          t.events.some((e) => e.type === "slack_posted" && e.data.purpose === "approval"),
      );
      await waitForInboxDone();
      // Killed once the card is recorded on the thread. (A kill between chat.postMessage and that
      // record makes the next process post the card a second time: Slack posts are at-least-once.)
      const [card] = slack.approvalCards();
      expect(slack.approvalCards()).toHaveLength(1);
      await first.kill();

      const second = await startApp("2nd");
      const click = await second.slackAction(clickBody("deploybot.approve", card!.approvalId, "U01APPROVER"));
      expect(click.status).toBe(200);
      await waitForThread("the production deploy dispatched", (t) => dispatchedFor(t, "production"));
      const production = s.github.createdIn("production")[0]!;
      await reportSuccess(second, production.id);
      const done = await waitForThread("done", (_, state) => state.status === "done");

      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 6, dead: 0 });
      expectDeployedOnce(done, ["staging", "production"]);
      expect(done.events.filter((e) => e.type === "approval_granted").map((e) => e.data)).toEqual([
        { approval_id: card!.approvalId, by: "U01APPROVER", channel: "slack", slack_user: "U01APPROVER" },
      ]);
      expect(slack.approvalCards(), "approval cards posted").toHaveLength(1);
      // Nothing was posted twice: every message (root, progress, card, end) says something new.
      const posts = slack.calls
        .filter((c) => c.method === "chat.postMessage")
        .map((c) => String(c.fields.text));
      expect(posts.length).toBeGreaterThanOrEqual(5);
      expect(new Set(posts).size, `messages posted:\n${posts.join("\n")}`).toBe(posts.length);
      const updates = slack.calls.filter((c) => c.method === "chat.update");
      expect(updates).toHaveLength(1);
      expect(JSON.stringify(updates[0]!.fields.blocks)).toContain("U01APPROVER");
      expect(slack.unmatched).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "just after Slack answers the approval card: the card is found, not posted again, and a click deploys once",
    async () => {
      const s = await setUp({ config: CONFIG_YAML, slack: true });
      const slack = s.slack!;
      const first = await startApp("1st");
      const killed = slack.killOn(
        (r) => slack.isApprovalCard(r),
        "reply-then-kill",
        () => first.kill(),
      );

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await waitForThread("the staging deploy dispatched", (t) => dispatchedFor(t, "staging"));
      await reportSuccess(first, s.github.createdIn("staging")[0]!.id);
      await trapped(killed, "the approval card's chat.postMessage (answered, then the process is killed)");

      expect(slack.approvalCards(), "approval cards posted before the kill").toHaveLength(1);
      const approvalId = slack.approvalCards()[0]!.approvalId;
      const key = `approval:${approvalId}`;
      const [card] = slack.tagged(`${THREAD_ID}/${key}`);
      expect(card, "the card, tagged with its key").toMatchObject({ channel: "C01DEPLOYS", thread_ts: null });
      const before = (await thread())!;
      expect(before.events.filter((e) => e.type === "slack_posting" && e.data.key === key)).toHaveLength(1);
      // Almost always the process dies before it records the card: then only Slack knows its ts.
      const recorded = before.events.some((e) => e.type === "slack_posted" && e.data.key === key);
      const seen = slack.requests.length;

      const second = await startApp("2nd");
      const after = await waitForThread("the approval card recorded", (t) =>
        t.events.some((e) => e.type === "slack_posted" && e.data.key === key),
      );
      expect(
        after.events.filter((e) => e.type === "slack_posted" && e.data.key === key).map((e) => e.data),
      ).toEqual([{ key, purpose: "approval", channel: "C01DEPLOYS", ts: card!.ts, error: null }]);
      if (!recorded) {
        const lookups = slack.requests
          .slice(seen)
          .map((r) => slack.callOf(r))
          .filter((c) => c.method === "conversations.history");
        expect(lookups, "the restarted process looks for the tagged card").toEqual([
          {
            method: "conversations.history",
            fields: expect.objectContaining({ channel: "C01DEPLOYS", include_all_metadata: "true" }),
          },
        ]);
      }
      expect(slack.approvalCards(), "approval cards after the restart").toHaveLength(1);

      const click = await second.slackAction(clickBody("deploybot.approve", approvalId, "U01APPROVER"));
      expect(click.status).toBe(200);
      await waitForThread("the production deploy dispatched", (t) => dispatchedFor(t, "production"));
      await reportSuccess(second, s.github.createdIn("production")[0]!.id);
      const done = await waitForThread("done", (_, state) => state.status === "done");

      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 6, dead: 0 });
      expectDeployedOnce(done, ["staging", "production"]);
      expect(done.events.filter((e) => e.type === "approval_granted").map((e) => e.data)).toEqual([
        { approval_id: approvalId, by: "U01APPROVER", channel: "slack", slack_user: "U01APPROVER" },
      ]);
      expect(countOf(done, "slack_posted")).toBe(
        new Set(done.events.filter((e) => e.type === "slack_posted").map((e) => e.data.key)).size,
      );
      expect(slack.approvalCards(), "approval cards posted").toHaveLength(1);
      const updates = slack.calls.filter((c) => c.method === "chat.update");
      expect(
        updates.map((u) => u.fields.ts),
        "the card, updated with the decision",
      ).toEqual([card!.ts]);
      expect(JSON.stringify(updates[0]!.fields.blocks)).toContain("U01APPROVER");
      const posts = slack.calls
        .filter((c) => c.method === "chat.postMessage")
        .map((c) => String(c.fields.text));
      expect(new Set(posts).size, `messages posted:\n${posts.join("\n")}`).toBe(posts.length);
      expect(slack.unmatched).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "just after Slack answers the thread's first message: it is found, and the progress replies go under it",
    async () => {
      const s = await setUp({ config: CONFIG_NO_APPROVAL_YAML, slack: true });
      const slack = s.slack!;
      const rootKey = `${THREAD_ID}/root`;
      const first = await startApp("1st");
      const killed = slack.killOn(
        (r) => slack.notificationKeyOf(r) === rootKey,
        "reply-then-kill",
        () => first.kill(),
      );

      expect((await first.webhook("pull_request", mergedPullRequest())).status).toBe(200);
      await trapped(killed, "the root message's chat.postMessage (answered, then the process is killed)");

      const roots = () => slack.tagged(rootKey);
      expect(roots(), "root messages before the kill").toHaveLength(1);
      const root = roots()[0]!;
      expect(root).toMatchObject({ channel: "C01DEPLOYS", thread_ts: null });
      expect(root.text).toContain("deploybot is on");
      const before = (await thread())!;
      expect(before.events.filter((e) => e.type === "slack_posting" && e.data.key === "root")).toHaveLength(
        1,
      );
      const recorded = before.events.some((e) => e.type === "slack_posted" && e.data.key === "root");
      const seen = slack.requests.length;

      const second = await startApp("2nd");
      await waitForThread("the staging deploy's progress posted", (t) =>
        t.events.some((e) => e.type === "slack_posted" && e.data.purpose === "progress"),
      );
      if (!recorded) {
        const lookups = slack.requests
          .slice(seen)
          .map((r) => slack.callOf(r))
          .filter((c) => c.method.startsWith("conversations."));
        expect(lookups, "the restarted process looks for the tagged root message").toEqual([
          {
            method: "conversations.history",
            fields: expect.objectContaining({ channel: "C01DEPLOYS", include_all_metadata: "true" }),
          },
        ]);
      }
      const done = await succeedThroughProduction(second);
      expect(await waitForInboxDone()).toEqual({ queued: 0, done: 5, dead: 0 });
      expectDeployedOnce(done, ["staging", "production"]);

      expect(roots(), "root messages after the restart").toHaveLength(1);
      expect(
        slack.calls.filter(
          (c) => c.method === "chat.postMessage" && String(c.fields.text).includes("deploybot is on"),
        ),
      ).toHaveLength(1);
      const final = (await thread())!;
      const posted = final.events.filter((e) => e.type === "slack_posted");
      expect(posted.filter((e) => e.data.key === "root").map((e) => e.data)).toEqual([
        { key: "root", purpose: "root", channel: "C01DEPLOYS", ts: root.ts, error: null },
      ]);
      // Every progress event has its reply: two deploys started and finished, and the end.
      const progress = posted.filter((e) => e.data.purpose === "progress");
      expect(progress).toHaveLength(5);
      expect(new Set(progress.map((e) => e.data.key)).size).toBe(5);
      const replies = slack.messages.filter((m) => m !== root);
      expect(replies.map((m) => m.ts).sort()).toEqual(progress.map((e) => e.data.ts).sort());
      for (const reply of replies) {
        expect(reply, `a reply under the root message: ${reply.text}`).toMatchObject({
          channel: "C01DEPLOYS",
          thread_ts: root.ts,
        });
      }
      expect(new Set(slack.messages.map((m) => m.text)).size).toBe(slack.messages.length);
      expect(slack.calls.filter((c) => c.method === "chat.update")).toEqual([]);
      expect(slack.unmatched).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
