import { installationFinder } from "../../src/github/installations.js";
import { readFileSync } from "node:fs";
import { sign } from "@octokit/webhooks-methods";
import nock from "nock";
import { createApp, healthRoute } from "../../src/app.js";
import type { Decider } from "../../src/agent/decide.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import { apiRoutes } from "../../src/http/api-routes.js";
import { dashboardRoutes } from "../../src/http/dashboard-routes.js";
import { metricsRoute } from "../../src/http/metrics-route.js";
import { slackRoutes } from "../../src/http/slack-routes.js";
import { createSlackClient } from "../../src/slack/client.js";
import { signSlackRequest } from "../../src/slack/verify.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { WorkerDeps } from "../../src/worker/deps.js";
import { processNextEntry } from "../../src/worker/entries.js";
import { recoverThreads } from "../../src/worker/sweeps.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "./fixtures.js";
import { CONFIG_YAML, mockCreateDeployment, mockDispatch, mockMergeContext } from "./github-mocks.js";
import { recordingLog } from "./harness.js";
import { httpRequest } from "./http.js";
import { APP_ID, startTestServer, WEBHOOK_SECRET } from "./probot.js";

/**
 * deploybot as a black box: a real server on a free port (GitHub webhooks and Slack endpoints),
 * signed requests in, the worker run by hand, GitHub and Slack behind nock, a clock tests move.
 */

export const SLACK_API = "https://slack.test";
export const SLACK_SIGNING_SECRET = "slack-signing-secret-for-tests-0123";
export const SLACK_TOKEN = "xoxb-test-token-0123456789";

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
}

export interface AppServer {
  base: string;
  store: SqliteStore;
  worker: WorkerDeps;
  log: ReturnType<typeof recordingLog>;
  now: { value: Date };
  /** Every Slack Web API call made, in order, with its form fields (blocks and views parsed). */
  slackCalls: SlackCall[];
  webhook(event: string, payload: unknown, deliveryId?: string): Promise<{ status: number; body: string }>;
  slack(
    path: "/slack/actions" | "/slack/commands" | "/slack/events",
    body: string,
    options?: { timestamp?: number; secret?: string; contentType?: string },
  ): Promise<{ status: number; body: string }>;
  /** A REST API call with the test token (or the given one, or none when null). */
  api(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  runWorker(): Promise<number>;
  /** Moves the clock and lets time act on waiting threads (reminders, expiry). */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

let deliveries = 0;

/**
 * Answers Slack Web API calls as Slack would (ok, a channel and a fresh ts), recording each one.
 * `times` bounds the calls per method; the returned scope is asserted done by the test.
 */
export function mockSlack(calls: SlackCall[], expected: Record<string, number>): nock.Scope {
  const scope = nock(SLACK_API);
  let ts = 1_700_000_000;
  for (const [method, times] of Object.entries(expected)) {
    scope
      .post(`/api/${method}`)
      .times(times)
      .reply(200, (_uri, body) => {
        const fields = Object.fromEntries(new URLSearchParams(String(body))) as Record<string, unknown>;
        for (const key of ["blocks", "view"]) {
          if (typeof fields[key] === "string") fields[key] = JSON.parse(fields[key] as string);
        }
        calls.push({ method, body: fields });
        if (method === "usergroups.users.list") return { ok: true, users: ["U02RELEASER"] };
        ts += 1;
        return { ok: true, channel: String(fields.channel ?? "C01DEPLOYS"), ts: `${ts}.000100` };
      });
  }
  return scope;
}

export const API_TOKEN = "api-token-for-tests-0123456789";

export async function startAppServer(
  options: {
    decider?: Decider;
    databasePath?: string;
    apiTokens?: Map<string, string>;
    /** As in production: unseen repositories are looked up through the app's installation. */
    lookUpInstallations?: boolean;
    prComments?: boolean;
  } = {},
): Promise<AppServer> {
  const store = new SqliteStore(options.databasePath ?? ":memory:");
  await store.migrate();
  const now = { value: new Date("2026-11-24T12:00:00Z") };
  const clock = () => now.value;
  const log = recordingLog();
  const slackClient = createSlackClient({
    token: SLACK_TOKEN,
    apiUrl: `${SLACK_API}/api/`,
    retries: 0,
    timeoutMs: 2_000,
  });
  const apiTokens = options.apiTokens ?? new Map([[API_TOKEN, "ci"]]);
  let worker: WorkerDeps | undefined;
  const server = await startTestServer(
    createApp({
      store,
      clock,
      routes: () => [
        healthRoute(store),
        metricsRoute(store),
        dashboardRoutes({ store, tokens: apiTokens, clock }),
        apiRoutes({
          store,
          clock,
          tokens: apiTokens,
          log,
          lookUpInstallations: options.lookUpInstallations ?? false,
        }),
        slackRoutes({ store, clock, signingSecret: SLACK_SIGNING_SECRET, slack: slackClient, log }),
      ],
      onReady: (app) => {
        worker = {
          store,
          decider: options.decider ?? createRulesDecider(),
          clock,
          log,
          octokitFor: (installationId) => app.auth(installationId),
          appId: APP_ID,
          pollMs: 10,
          slack: slackClient,
          githubUrl: "https://github.com",
          prComments: options.prComments ?? false,
          ...(options.lookUpInstallations
            ? { installationOf: installationFinder({ store, clock, appOctokit: () => app.auth() }) }
            : {}),
        };
      },
    }),
    log,
  );
  const base = server.url;
  const runWorker = async () => {
    let handled = 0;
    while (await processNextEntry(worker!)) handled += 1;
    return handled;
  };
  return {
    base,
    store,
    worker: worker!,
    log,
    now,
    slackCalls: [],
    async webhook(event, payload, deliveryId = `gh-${++deliveries}`) {
      const body = JSON.stringify(payload);
      return httpRequest(`${base}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": deliveryId,
          "x-hub-signature-256": await sign(WEBHOOK_SECRET, body),
        },
        body,
      });
    },
    async slack(path, body, opts = {}) {
      const timestamp = opts.timestamp ?? Math.floor(now.value.getTime() / 1000);
      return httpRequest(`${base}${path}`, {
        method: "POST",
        headers: {
          "content-type":
            opts.contentType ??
            (path === "/slack/events" ? "application/json" : "application/x-www-form-urlencoded"),
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": signSlackRequest(opts.secret ?? SLACK_SIGNING_SECRET, timestamp, body),
        },
        body,
      });
    },
    runWorker,
    async api(method, path, body, opts = {}) {
      const token = opts.token === undefined ? API_TOKEN : opts.token;
      return httpRequest(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...opts.headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    async advance(ms) {
      now.value = new Date(now.value.getTime() + ms);
      await recoverThreads(worker!);
      await runWorker();
    },
    async stop() {
      await server.close();
      await store.close();
    },
  };
}

/** A block_actions body as Slack sends it to the interactivity URL. */
export function clickBody(
  actionId: string,
  approvalId: string,
  user: string,
  triggerId = `trig-${++deliveries}`,
): string {
  const payload = {
    type: "block_actions",
    user: { id: user, username: user.toLowerCase(), team_id: "T01TEAM" },
    api_app_id: "A01APP",
    token: "legacy",
    container: {
      type: "message",
      message_ts: "1700000003.000100",
      channel_id: "C01DEPLOYS",
      is_ephemeral: false,
    },
    trigger_id: triggerId,
    team: { id: "T01TEAM", domain: "acme" },
    channel: { id: "C01DEPLOYS", name: "deploys" },
    message: { ts: "1700000003.000100", text: "approve?" },
    response_url: "https://hooks.slack.com/actions/T01TEAM/1/abc",
    actions: [
      {
        action_id: actionId,
        block_id: "decision",
        text: { type: "plain_text", text: "Approve" },
        value: approvalId,
        type: "button",
        action_ts: `${Date.now()}.${deliveries}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function rejectSubmissionBody(approvalId: string, user: string, reason: string): string {
  const payload = {
    type: "view_submission",
    team: { id: "T01TEAM", domain: "acme" },
    user: { id: user, username: user.toLowerCase(), team_id: "T01TEAM" },
    api_app_id: "A01APP",
    token: "legacy",
    trigger_id: `trig-${++deliveries}`,
    view: {
      id: `V${deliveries}`,
      type: "modal",
      callback_id: "deploybot.reject",
      private_metadata: approvalId,
      state: { values: { reason: { reason: { type: "plain_text_input", value: reason } } } },
      hash: "h",
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

// ---------------------------------------------------------------------------------------------
// Slack request bodies for the Events API and slash commands, and a shared way to an approval card.

const slackFixtures = new URL("../fixtures/slack/", import.meta.url);

/**
 * An Events API body as Slack sends it: the documented `message.channels` envelope with `event`
 * replaced and a chosen `event_id` (a Slack retry repeats the event_id).
 */
export function slackEventBody(event: Record<string, unknown>, eventId = `Ev${++deliveries}`): string {
  const envelope = JSON.parse(
    readFileSync(new URL("message-channels.json", slackFixtures), "utf8"),
  ) as Record<string, unknown>;
  envelope.team_id = "T01TEAM";
  envelope.api_app_id = "A01APP";
  envelope.event_id = eventId;
  envelope.event = { event_ts: event.ts, channel_type: "channel", ...event };
  return JSON.stringify(envelope);
}

/** The form body of a `/deploybot <text>` slash command, with the fields Slack sends. */
export function slashCommandBody(text: string, options: { user?: string; channel?: string } = {}): string {
  return new URLSearchParams({
    token: "legacy",
    team_id: "T01TEAM",
    team_domain: "acme",
    channel_id: options.channel ?? "C01DEPLOYS",
    channel_name: "deploys",
    user_id: options.user ?? "U01ASKER",
    user_name: "asker",
    command: "/deploybot",
    text,
    api_app_id: "A01APP",
    response_url: "https://hooks.slack.com/commands/T01TEAM/1/xyz",
    trigger_id: `trig-${++deliveries}`,
  }).toString();
}

/**
 * Merges PR #7 (backend), deploys it to staging and lets that succeed: the thread stops at the
 * production approval card. Throws when a mocked call was not made or the thread is elsewhere.
 */
export async function untilApprovalCard(
  app: AppServer,
  config = CONFIG_YAML,
): Promise<{ threadId: string; approvalId: string; cardTs: string }> {
  const threadId = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
  const scopes = [
    ...mockMergeContext({ config }),
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
    mockDispatch("deploy-backend.yml", 5001),
    mockSlack(app.slackCalls, { "chat.postMessage": 4 }),
  ];
  if ((await app.webhook("pull_request", mergedPullRequest())).status !== 200)
    throw new Error("merge refused");
  await app.runWorker();
  const status = deploymentStatus({ deploymentId: 1001, state: "success" });
  if ((await app.webhook("deployment_status", status)).status !== 200) throw new Error("status refused");
  await app.runWorker();
  const pending = scopes.flatMap((scope) => scope.pendingMocks());
  if (pending.length > 0) throw new Error(`calls not made: ${pending.join(", ")}`);
  const thread = (await app.store.getThread(threadId))!;
  const approval = deriveState(thread.events).pendingApproval;
  const card = thread.events.find(
    (e) => e.type === "slack_posted" && e.data.key === `approval:${approval?.data.approval_id}`,
  );
  if (!approval || card?.type !== "slack_posted" || !card.data.ts) {
    throw new Error(`the thread is not at an approval card: ${thread.events.map((e) => e.type).join(", ")}`);
  }
  return { threadId, approvalId: approval.data.approval_id, cardTs: card.data.ts };
}
