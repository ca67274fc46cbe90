import { INSTALLATION_ID, OWNER, REPO } from "../helpers/fixtures.js";
import { FakeServer, type RecordedRequest, type Reply } from "./fake-server.js";

/** Fake GitHub (GitHub Enterprise Server paths, under /api/v3), model and Slack for a real process. */

const REPO_PATH = `/api/v3/repos/${OWNER}/${REPO}`;

export interface CreatedDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  payload: unknown;
  created_at: string;
}

export interface Dispatch {
  workflow: string;
  runId: number;
  inputs: Record<string, string>;
  ref: string;
}

function json(request: RecordedRequest): Record<string, unknown> {
  return request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
}

export class FakeGitHub extends FakeServer {
  readonly deployments: CreatedDeployment[] = [];
  readonly dispatches: Dispatch[] = [];
  private nextDeploymentId = 1001;
  private nextRunId = 5001;
  private nextCommentId = 70_001;
  /** Comments on pull requests, as GitHub keeps them. */
  readonly comments: { id: number; number: number; body: string }[] = [];

  constructor(private readonly options: { configYaml: string; files: string[]; sha: string }) {
    super("GitHub", (request) => this.route(request));
  }

  /** Deployments created for an environment (POST /deployments that GitHub answered 201). */
  createdIn(environment: string): CreatedDeployment[] {
    return this.deployments.filter((d) => d.environment === environment);
  }

  dispatchesOf(deploymentId: number): Dispatch[] {
    return this.dispatches.filter((d) => d.inputs.deployment_id === String(deploymentId));
  }

  private route(request: RecordedRequest): Reply | null {
    const { method, path, query } = request;
    const installation = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (method === "POST" && installation && Number(installation[1]) === INSTALLATION_ID) {
      return {
        status: 201,
        json: { token: "ghs_crashtest", expires_at: "2099-01-01T00:00:00Z", permissions: {} },
      };
    }
    if (!path.startsWith(REPO_PATH)) return null;
    const rest = path.slice(REPO_PATH.length);

    if (method === "GET" && rest === "") {
      return { status: 200, json: { name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: "main" } };
    }
    if (method === "GET" && rest === "/contents/.github/deploybot.yml") {
      return { status: 200, text: this.options.configYaml };
    }
    if (method === "GET" && /^\/pulls\/\d+\/files$/.test(rest)) {
      return {
        status: 200,
        json: this.options.files.map((filename, index) => ({
          sha: String(index).padStart(40, "0"),
          filename,
          status: "modified",
        })),
      };
    }
    if (method === "GET" && rest === "/deployments") {
      const sha = query.get("sha");
      const environment = query.get("environment");
      const list = this.deployments
        .filter(
          (d) => (sha === null || d.sha === sha) && (environment === null || d.environment === environment),
        )
        .sort((a, b) => b.id - a.id);
      return { status: 200, json: list };
    }
    if (method === "POST" && rest === "/deployments") {
      const body = json(request);
      const ref = String(body.ref);
      const deployment: CreatedDeployment = {
        id: this.nextDeploymentId++,
        ref,
        sha: /^[0-9a-f]{40}$/.test(ref) ? ref : this.options.sha,
        environment: String(body.environment),
        payload: body.payload,
        created_at: new Date().toISOString(),
      };
      this.deployments.push(deployment);
      return { status: 201, json: deployment };
    }
    const statuses = /^\/deployments\/(\d+)\/statuses$/.exec(rest);
    if (statuses && method === "GET") return { status: 200, json: [] };
    if (statuses && method === "POST") {
      return { status: 201, json: { id: Number(statuses[1]) * 10, state: json(request).state } };
    }
    const commit = /^\/commits\/([0-9a-f]{40})\/(status|check-runs)$/.exec(rest);
    if (commit && method === "GET") {
      return commit[2] === "status"
        ? { status: 200, json: { state: "success", statuses: [{ context: "ci/test", state: "success" }] } }
        : {
            status: 200,
            json: {
              total_count: 1,
              check_runs: [{ name: "build", status: "completed", conclusion: "success" }],
            },
          };
    }
    const dispatch = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest);
    if (dispatch && method === "POST") {
      const body = json(request);
      const runId = this.nextRunId++;
      this.dispatches.push({
        workflow: dispatch[1]!,
        runId,
        inputs: body.inputs as Record<string, string>,
        ref: String(body.ref),
      });
      return {
        status: 200,
        json: {
          workflow_run_id: runId,
          run_url: `${this.url}${REPO_PATH}/actions/runs/${runId}`,
          html_url: `https://github.example/${OWNER}/${REPO}/actions/runs/${runId}`,
        },
      };
    }
    const runs = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest);
    if (runs && method === "GET") {
      const list = this.dispatches
        .filter((d) => d.workflow === runs[1])
        .map((d) => ({
          id: d.runId,
          name: `deploy ${d.inputs.component}`,
          display_title: `deploy ${d.inputs.component} ${d.inputs.sha} to ${d.inputs.environment} (deployment ${d.inputs.deployment_id})`,
          event: "workflow_dispatch",
          status: "queued",
          conclusion: null,
          head_branch: d.ref,
          html_url: `https://github.example/${OWNER}/${REPO}/actions/runs/${d.runId}`,
        }))
        .reverse();
      return { status: 200, json: { total_count: list.length, workflow_runs: list } };
    }
    if (method === "GET" && rest.startsWith("/compare/")) {
      return { status: 200, json: { total_commits: 0, commits: [], files: [] } };
    }
    return this.routeComment(method, rest, request);
  }

  /** The pull request's comments: the deploy's one comment, created once and edited in place. */
  private routeComment(method: string, rest: string, request: RecordedRequest): Reply | null {
    const onIssue = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (onIssue && method === "POST") {
      const comment = {
        id: this.nextCommentId++,
        number: Number(onIssue[1]),
        body: String(json(request).body),
      };
      this.comments.push(comment);
      return { status: 201, json: comment };
    }
    if (onIssue && method === "GET") {
      return { status: 200, json: this.comments.filter((c) => c.number === Number(onIssue[1])) };
    }
    const edited = /^\/issues\/comments\/(\d+)$/.exec(rest);
    const known = edited ? this.comments.find((c) => c.id === Number(edited[1])) : undefined;
    if (edited && method === "PATCH") {
      if (!known) return { status: 404, json: { message: "Not Found" } };
      known.body = String(json(request).body);
      return { status: 200, json: known };
    }
    return null;
  }
}

/** A chat completion carrying `content`, as an OpenAI-compatible server answers. */
export function chatCompletion(content: string): Record<string, unknown> {
  return {
    id: "chatcmpl-crash",
    object: "chat.completion",
    created: 1_764_000_000,
    model: "test-model",
    choices: [
      {
        index: 0,
        finish_reason: "stop",
        logprobs: null,
        message: { role: "assistant", content, refusal: null },
      },
    ],
    usage: { prompt_tokens: 900, completion_tokens: 30, total_tokens: 930 },
  };
}

/** Chat Completions: answers from a queue, one per request; a 500 when the queue is empty. */
export class FakeModel extends FakeServer {
  readonly answers: string[] = [];

  constructor() {
    super("model", (request) => {
      if (request.method !== "POST" || request.path !== "/v1/chat/completions") return null;
      const content = this.answers.shift();
      if (content === undefined) return { status: 500, json: { error: { message: "no answer queued" } } };
      return { status: 200, json: chatCompletion(content) };
    });
  }

  get completions(): RecordedRequest[] {
    return this.find("POST", /^\/v1\/chat\/completions$/);
  }
}

export interface SlackCall {
  method: string;
  fields: Record<string, unknown>;
}

/** Slack message metadata, as chat.postMessage takes it and conversations.* return it. */
export interface SlackMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A message the fake Slack keeps: every chat.postMessage it answered (chat.update edits it in place). */
export interface SlackMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a reply in a thread; null for a top-level message. */
  thread_ts: string | null;
  text: string;
  blocks: unknown;
  metadata: SlackMetadata | null;
}

/** The approval ids of the `deploybot.approve` buttons in a message's blocks. */
function approvalIdsOf(fields: Record<string, unknown>): string[] {
  if (!Array.isArray(fields.blocks)) return [];
  const ids: string[] = [];
  for (const block of fields.blocks as { type?: string; elements?: unknown[] }[]) {
    for (const element of block.elements ?? []) {
      const button = element as { action_id?: string; value?: string };
      if (button.action_id === "deploybot.approve" && button.value) ids.push(button.value);
    }
  }
  return ids;
}

function metadataOf(value: unknown): SlackMetadata | null {
  if (typeof value !== "object" || value === null) return null;
  const { event_type, event_payload } = value as { event_type?: unknown; event_payload?: unknown };
  if (typeof event_type !== "string") return null;
  return {
    event_type,
    event_payload:
      typeof event_payload === "object" && event_payload !== null
        ? (event_payload as Record<string, unknown>)
        : {},
  };
}

/**
 * Slack's Web API: every chat call succeeds with a fresh ts; user groups list `members`. The
 * messages posted are kept, and conversations.history (a channel's top-level messages, newest
 * first) and conversations.replies (a parent and its replies, oldest first) answer with them, with
 * their metadata when `include_all_metadata` asks for it, as Slack does.
 */
export class FakeSlack extends FakeServer {
  readonly messages: SlackMessage[] = [];
  private ts = 1_700_000_000;

  constructor(private readonly members: string[]) {
    super("Slack", (request) => this.route(request));
  }

  get calls(): SlackCall[] {
    return this.requests.filter((r) => r.path.startsWith("/api/")).map((r) => this.callOf(r));
  }

  /** chat.postMessage calls that carry the approval buttons, with the approval id of each. */
  approvalCards(): { approvalId: string; fields: Record<string, unknown> }[] {
    return this.calls
      .filter((call) => call.method === "chat.postMessage")
      .flatMap((call) =>
        approvalIdsOf(call.fields).map((approvalId) => ({ approvalId, fields: call.fields })),
      );
  }

  /** Whether a request is a chat.postMessage of an approval card (for a kill trap). */
  isApprovalCard(request: RecordedRequest): boolean {
    const call = this.callOf(request);
    return call.method === "chat.postMessage" && approvalIdsOf(call.fields).length > 0;
  }

  /** The key a request's chat.postMessage is tagged with (`<thread id>/<notification key>`), if any. */
  notificationKeyOf(request: RecordedRequest): string | null {
    const call = this.callOf(request);
    if (call.method !== "chat.postMessage") return null;
    const key = metadataOf(call.fields.metadata)?.event_payload.key;
    return typeof key === "string" ? key : null;
  }

  /** Messages kept whose metadata carries this notification key (`<thread id>/<notification key>`). */
  tagged(notificationKey: string): SlackMessage[] {
    return this.messages.filter((m) => m.metadata?.event_payload.key === notificationKey);
  }

  /** A request as a Slack method call: its fields, with `blocks`, `view` and `metadata` parsed. */
  callOf(request: RecordedRequest): SlackCall {
    const method = request.path.slice("/api/".length);
    const type = String(request.headers["content-type"] ?? "");
    const fields: Record<string, unknown> = type.includes("application/json")
      ? (JSON.parse(request.body || "{}") as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(request.body));
    for (const key of ["blocks", "view", "metadata"]) {
      if (typeof fields[key] === "string") fields[key] = JSON.parse(fields[key]);
    }
    return { method, fields };
  }

  /** A kept message as conversations.history and conversations.replies return it. */
  private render(message: SlackMessage, withMetadata: boolean): Record<string, unknown> {
    const replies = this.messages.filter((m) => m.channel === message.channel && m.thread_ts === message.ts);
    return {
      type: "message",
      user: "U0DEPLOYBOT",
      bot_id: "B0DEPLOYBOT",
      ts: message.ts,
      text: message.text,
      ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
      ...(message.thread_ts
        ? { thread_ts: message.thread_ts, parent_user_id: "U0DEPLOYBOT" }
        : replies.length > 0
          ? { thread_ts: message.ts, reply_count: replies.length, latest_reply: replies.at(-1)!.ts }
          : {}),
      ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
    };
  }

  private route(request: RecordedRequest): Reply | null {
    if (request.method !== "POST" || !request.path.startsWith("/api/")) return null;
    const { method, fields } = this.callOf(request);
    const limitOf = (fallback: number) => {
      const limit = Number(fields.limit ?? fallback);
      return Number.isInteger(limit) && limit > 0 ? limit : fallback;
    };
    const withMetadata = String(fields.include_all_metadata) === "true";
    switch (method) {
      case "chat.postMessage": {
        this.ts += 1;
        const channel = String(fields.channel ?? "C01DEPLOYS");
        const ts = `${this.ts}.000100`;
        this.messages.push({
          channel,
          ts,
          thread_ts: typeof fields.thread_ts === "string" && fields.thread_ts ? fields.thread_ts : null,
          text: String(fields.text ?? ""),
          blocks: fields.blocks,
          metadata: metadataOf(fields.metadata),
        });
        return { status: 200, json: { ok: true, channel, ts, message_ts: ts } };
      }
      case "chat.update": {
        this.ts += 1;
        const channel = String(fields.channel ?? "C01DEPLOYS");
        const message = this.messages.find((m) => m.channel === channel && m.ts === String(fields.ts));
        if (message) {
          if (fields.text !== undefined) message.text = String(fields.text);
          if (fields.blocks !== undefined) message.blocks = fields.blocks;
        }
        return {
          status: 200,
          json: { ok: true, channel, ts: String(fields.ts), message_ts: `${this.ts}.000100` },
        };
      }
      case "chat.postEphemeral":
        this.ts += 1;
        return {
          status: 200,
          json: {
            ok: true,
            channel: String(fields.channel ?? "C01DEPLOYS"),
            ts: `${this.ts}.000100`,
            message_ts: `${this.ts}.000100`,
          },
        };
      case "conversations.history": {
        const channel = String(fields.channel ?? "");
        const topLevel = this.messages.filter((m) => m.channel === channel && m.thread_ts === null).reverse();
        const limit = limitOf(100);
        return {
          status: 200,
          json: {
            ok: true,
            messages: topLevel.slice(0, limit).map((m) => this.render(m, withMetadata)),
            has_more: topLevel.length > limit,
            pin_count: 0,
            response_metadata: { next_cursor: "" },
          },
        };
      }
      case "conversations.replies": {
        const channel = String(fields.channel ?? "");
        const parent = this.messages.find(
          (m) => m.channel === channel && m.ts === String(fields.ts) && m.thread_ts === null,
        );
        if (!parent) return { status: 200, json: { ok: false, error: "thread_not_found" } };
        const thread = [
          parent,
          ...this.messages.filter((m) => m.channel === channel && m.thread_ts === parent.ts),
        ];
        const limit = limitOf(1000);
        return {
          status: 200,
          json: {
            ok: true,
            messages: thread.slice(0, limit).map((m) => this.render(m, withMetadata)),
            has_more: thread.length > limit,
            response_metadata: { next_cursor: "" },
          },
        };
      }
      case "usergroups.users.list":
        return { status: 200, json: { ok: true, users: this.members } };
      default:
        return { status: 200, json: { ok: false, error: "unknown_method" } };
    }
  }
}
