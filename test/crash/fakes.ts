import { INSTALLATION_ID, OWNER, REPO } from "../helpers/fixtures.js";
import { FakeServer, type RecordedRequest, type Reply } from "./fake-server.js";

/**
 * Fake GitHub (GitHub Enterprise Server paths, under /api/v3), model and Slack for a real process.
 * The fake GitHub serves one repository (OWNER/REPO) or several, keeps the deployments created
 * with the statuses posted to them, and lists the runs of dispatched workflows by the run-name the
 * example workflows give them: `deploy <component> <sha> to <environment> (deployment <id>)`.
 */

export interface CreatedDeployment {
  id: number;
  /** The repository's full name, `owner/name`. */
  repo: string;
  ref: string;
  sha: string;
  environment: string;
  payload: unknown;
  created_at: string;
}

export interface DeploymentStatusRecord {
  id: number;
  state: string;
  description: string;
  created_at: string;
}

export interface Dispatch {
  workflow: string;
  runId: number;
  inputs: Record<string, string>;
  ref: string;
}

/** A repository the fake serves: its config on the default branch and the files its pull requests change. */
export interface FakeRepo {
  /** `owner/name` */
  fullName: string;
  configYaml: string;
  /** The files of every pull request, or of pull request `number`. */
  files: string[] | ((number: number) => string[]);
}

/** Deployment states that end a deployment. */
export const FINAL_DEPLOYMENT_STATES = ["success", "failure", "error", "inactive"];

function json(request: RecordedRequest): Record<string, unknown> {
  return request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
}

export interface IssueComment {
  id: number;
  /** `owner/name#number` */
  issue: string;
  body: string;
  edits: number;
}

export class FakeGitHub extends FakeServer {
  readonly deployments: CreatedDeployment[] = [];
  /** The deploy branch's history: merge commit SHA -> its position (a later merge, a larger one). */
  readonly commitOrder = new Map<string, number>();
  /** Comments on pull requests, as deploybot wrote them. */
  readonly comments: IssueComment[] = [];
  private nextCommentId = 9001;
  readonly dispatches: Dispatch[] = [];
  /** Statuses by deployment id, oldest first. */
  readonly statuses = new Map<number, DeploymentStatusRecord[]>();
  private readonly repos: FakeRepo[];
  private readonly repoOfRun = new Map<number, string>();
  private nextDeploymentId = 1001;
  private nextRunId = 5001;
  private nextStatusId = 1;

  constructor(
    private readonly options:
      { configYaml: string; files: string[]; sha: string } | { repos: FakeRepo[]; sha?: undefined },
  ) {
    super("GitHub", (request) => this.route(request));
    this.repos =
      "repos" in options
        ? options.repos
        : [{ fullName: `${OWNER}/${REPO}`, configYaml: options.configYaml, files: options.files }];
  }

  /** Deployments created for an environment (POST /deployments that GitHub answered 201). */
  createdIn(environment: string): CreatedDeployment[] {
    return this.deployments.filter((d) => d.environment === environment);
  }

  dispatchesOf(deploymentId: number): Dispatch[] {
    return this.dispatches.filter((d) => d.inputs.deployment_id === String(deploymentId));
  }

  /** The repository (`owner/name`) a workflow run was dispatched in. */
  repoOf(dispatch: Dispatch): string {
    return this.repoOfRun.get(dispatch.runId) ?? "";
  }

  dispatchesIn(repo: string): Dispatch[] {
    return this.dispatches.filter((d) => this.repoOf(d) === repo);
  }

  /** Records a deployment status, as a deploy workflow posts it. */
  addStatus(deploymentId: number, state: string, description = ""): DeploymentStatusRecord {
    const status = {
      id: this.nextStatusId++,
      state,
      description,
      created_at: new Date().toISOString(),
    };
    this.statuses.set(deploymentId, [...(this.statuses.get(deploymentId) ?? []), status]);
    return status;
  }

  /** The deployment's latest final state (success, failure, error, inactive), or null while it is pending. */
  finalStateOf(deploymentId: number): string | null {
    const final = (this.statuses.get(deploymentId) ?? []).filter((s) =>
      FINAL_DEPLOYMENT_STATES.includes(s.state),
    );
    return final.at(-1)?.state ?? null;
  }

  private route(request: RecordedRequest): Reply | null {
    const { method, path } = request;
    const installation = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (method === "POST" && installation && Number(installation[1]) === INSTALLATION_ID) {
      return {
        status: 201,
        json: { token: "ghs_crashtest", expires_at: "2099-01-01T00:00:00Z", permissions: {} },
      };
    }
    const repoPath = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const repo = repoPath && this.repos.find((r) => r.fullName === `${repoPath[1]}/${repoPath[2]}`);
    if (!repoPath || !repo) return null;
    return this.routeRepo(request, repo, repoPath[3] ?? "");
  }

  private routeRepo(request: RecordedRequest, repo: FakeRepo, rest: string): Reply | null {
    const { method, query } = request;
    const [owner, name] = repo.fullName.split("/") as [string, string];
    if (method === "GET" && rest === "") {
      return { status: 200, json: { name, full_name: repo.fullName, default_branch: "main" } };
    }
    if (method === "GET" && rest === "/contents/.github/deploybot.yml") {
      return { status: 200, text: repo.configYaml };
    }
    const issueComments = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (issueComments) {
      const issue = `${repo.fullName}#${issueComments[1]}`;
      if (method === "GET") {
        const page = Number(query.get("page") ?? "1");
        const list = this.comments.filter((c) => c.issue === issue).slice((page - 1) * 100, page * 100);
        return { status: 200, json: list.map((c) => ({ id: c.id, body: c.body })) };
      }
      if (method === "POST") {
        const comment = { id: this.nextCommentId++, issue, body: String(json(request).body), edits: 0 };
        this.comments.push(comment);
        return { status: 201, json: { id: comment.id, body: comment.body } };
      }
    }
    const editedComment = /^\/issues\/comments\/(\d+)$/.exec(rest);
    if (editedComment && method === "PATCH") {
      const comment = this.comments.find((c) => c.id === Number(editedComment[1]));
      if (!comment) return { status: 404, json: { message: "Not Found" } };
      comment.body = String(json(request).body);
      comment.edits += 1;
      return { status: 200, json: { id: comment.id, body: comment.body } };
    }
    const pullFiles = /^\/pulls\/(\d+)\/files$/.exec(rest);
    if (method === "GET" && pullFiles) {
      const files = typeof repo.files === "function" ? repo.files(Number(pullFiles[1])) : repo.files;
      return {
        status: 200,
        json: files.map((filename, index) => ({
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
          (d) =>
            d.repo === repo.fullName &&
            (sha === null || d.sha === sha) &&
            (environment === null || d.environment === environment),
        )
        .sort((a, b) => b.id - a.id);
      return { status: 200, json: list };
    }
    if (method === "POST" && rest === "/deployments") {
      const body = json(request);
      const ref = String(body.ref);
      const deployment: CreatedDeployment = {
        id: this.nextDeploymentId++,
        repo: repo.fullName,
        ref,
        sha: /^[0-9a-f]{40}$/.test(ref) ? ref : (this.options.sha ?? ref),
        environment: String(body.environment),
        payload: body.payload,
        created_at: new Date().toISOString(),
      };
      this.deployments.push(deployment);
      return { status: 201, json: deployment };
    }
    const single = /^\/deployments\/(\d+)$/.exec(rest);
    if (single && method === "GET") {
      const deployment = this.deployments.find((d) => d.id === Number(single[1]) && d.repo === repo.fullName);
      return deployment ? { status: 200, json: deployment } : { status: 404, json: { message: "Not Found" } };
    }
    const statuses = /^\/deployments\/(\d+)\/statuses$/.exec(rest);
    if (statuses && method === "GET") {
      return { status: 200, json: [...(this.statuses.get(Number(statuses[1])) ?? [])].reverse() };
    }
    if (statuses && method === "POST") {
      const body = json(request);
      const status = this.addStatus(Number(statuses[1]), String(body.state), String(body.description ?? ""));
      return { status: 201, json: status };
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
      this.repoOfRun.set(runId, repo.fullName);
      return {
        status: 200,
        json: {
          workflow_run_id: runId,
          run_url: `${this.url}/api/v3/repos/${repo.fullName}/actions/runs/${runId}`,
          html_url: `https://github.example/${owner}/${name}/actions/runs/${runId}`,
        },
      };
    }
    // A workflow's runs, or the repository's (GET /actions/runs), newest first.
    const runs = /^\/actions(?:\/workflows\/([^/]+))?\/runs$/.exec(rest);
    if (runs && method === "GET") {
      const list = this.dispatchesIn(repo.fullName)
        .filter((d) => runs[1] === undefined || d.workflow === runs[1])
        .map((d) => ({
          id: d.runId,
          name: `deploy ${d.inputs.component}`,
          display_title: `deploy ${d.inputs.component} ${d.inputs.sha} to ${d.inputs.environment} (deployment ${d.inputs.deployment_id})`,
          event: "workflow_dispatch",
          status: "queued",
          conclusion: null,
          head_branch: d.ref,
          path: `.github/workflows/${d.workflow}`,
          html_url: `https://github.example/${owner}/${name}/actions/runs/${d.runId}`,
        }))
        .reverse();
      return { status: 200, json: { total_count: list.length, workflow_runs: list } };
    }
    const compare = /^\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/.exec(rest);
    if (method === "GET" && compare) {
      // A linear history in merge order; a commit the fake was not told of counts as the newest.
      const position = (sha: string) => this.commitOrder.get(sha) ?? Number.MAX_SAFE_INTEGER;
      const [base, head] = [position(compare[1]!), position(compare[2]!)];
      const status = compare[1] === compare[2] ? "identical" : head > base ? "ahead" : "behind";
      return {
        status: 200,
        json: {
          status,
          ahead_by: status === "ahead" ? 1 : 0,
          behind_by: status === "behind" ? 1 : 0,
          total_commits: status === "ahead" ? 1 : 0,
          commits: [],
          files: [],
        },
      };
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
