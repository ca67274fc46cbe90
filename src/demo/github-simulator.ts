import { createHash, createHmac, randomUUID } from "node:crypto";
import { HttpService, type ServiceReply, type ServiceRequest } from "./http-service.js";

/**
 * A simulated GitHub for the demo: the REST routes deploybot calls, under GitHub Enterprise
 * Server's `/api/v3` prefix, for one sample repository; workflows that run when dispatched and
 * report back the way a deploy workflow does (a deployment status, then the run's completion),
 * as signed webhooks to deploybot's own endpoint. Web addresses (a commit, a run) answer with a
 * short page saying what they would show.
 */

export interface SampleCommit {
  sha: string;
  message: string;
  /** Environments where the deploy of a component fails: `{ backend: ["staging"] }`. */
  failsIn?: Record<string, string[]>;
  /** The log lines of the failing step. */
  failureLog?: string[];
}

export interface SamplePullRequest {
  number: number;
  title: string;
  body: string;
  author: string;
  files: string[];
  commit: SampleCommit;
}

interface Deployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  payload: unknown;
  description: string | null;
  created_at: string;
  statuses: { id: number; state: string; description: string; created_at: string; log_url: string | null }[];
}

interface Run {
  id: number;
  workflow: string;
  inputs: Record<string, string>;
  ref: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | null;
  failedStep: string | null;
  log: string[];
}

export interface GitHubSimulatorOptions {
  owner: string;
  repo: string;
  installationId: number;
  appId: number;
  configYaml: string;
  /** How long a simulated workflow runs before it reports (ms). */
  workflowMs: number;
}

/** A commit SHA for a sample commit, stable across runs. */
export function sampleSha(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function json(request: ServiceRequest): Record<string, unknown> {
  if (!request.body) return {};
  try {
    const value = JSON.parse(request.body) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const notFound: ServiceReply = {
  status: 404,
  json: { message: "Not Found", documentation_url: "https://docs.github.com/rest" },
};

export class GitHubSimulator {
  readonly service: HttpService;
  readonly deployments: Deployment[] = [];
  readonly runs: Run[] = [];
  readonly comments: { id: number; issue: number; body: string }[] = [];
  private readonly pulls = new Map<number, SamplePullRequest>();
  private readonly commits = new Map<string, SampleCommit>();
  private nextDeploymentId = 101;
  private nextRunId = 9001;
  private nextStatusId = 1;
  private nextCommentId = 501;
  private webhook: { url: string; secret: string } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Webhook deliveries that failed (deploybot down): the demo reports them. */
  readonly deliveryErrors: string[] = [];

  constructor(private readonly options: GitHubSimulatorOptions) {
    this.service = new HttpService("GitHub", (request) => this.route(request));
  }

  async start(): Promise<this> {
    await this.service.start();
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.service.stop();
  }

  /** `GHE_HOST` for deploybot. */
  get host(): string {
    return this.service.host;
  }

  /** The simulated web address (`githubUrl`): links in deploybot's pages and messages. */
  get webUrl(): string {
    return this.service.url;
  }

  get fullName(): string {
    return `${this.options.owner}/${this.options.repo}`;
  }

  /** Where webhooks go, signed with the app's webhook secret. */
  connect(webhookUrl: string, secret: string): void {
    this.webhook = { url: webhookUrl, secret };
  }

  addCommit(commit: SampleCommit): void {
    this.commits.set(commit.sha, commit);
  }

  /** Merges a sample pull request: GitHub sends `pull_request.closed` with `merged: true`. */
  async merge(pull: SamplePullRequest): Promise<void> {
    this.pulls.set(pull.number, pull);
    this.addCommit(pull.commit);
    const web = `${this.webUrl}/${this.fullName}`;
    await this.send("pull_request", {
      action: "closed",
      number: pull.number,
      pull_request: {
        number: pull.number,
        title: pull.title,
        body: pull.body,
        html_url: `${web}/pull/${pull.number}`,
        merged: true,
        merge_commit_sha: pull.commit.sha,
        user: { login: pull.author },
        base: { ref: "main" },
        head: { ref: `feature-${pull.number}` },
      },
      repository: this.repository(),
      installation: { id: this.options.installationId },
      sender: { login: pull.author },
    });
  }

  private repository() {
    return {
      id: 1,
      name: this.options.repo,
      full_name: this.fullName,
      owner: { login: this.options.owner },
      default_branch: "main",
      html_url: `${this.webUrl}/${this.fullName}`,
    };
  }

  private async send(event: string, payload: unknown): Promise<void> {
    if (!this.webhook) throw new Error("the GitHub simulator is not connected to deploybot");
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac("sha256", this.webhook.secret).update(body).digest("hex")}`;
    try {
      const response = await fetch(this.webhook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": signature,
          "user-agent": "GitHub-Hookshot/simulated",
        },
        body,
      });
      if (!response.ok)
        this.deliveryErrors.push(`${event}: HTTP ${response.status} ${await response.text()}`);
    } catch (error) {
      this.deliveryErrors.push(`${event}: ${String(error)}`);
    }
  }

  private later(ms: number, work: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void work();
    }, ms);
    this.timers.add(timer);
  }

  /** Runs a dispatched deploy workflow: in progress, then success or failure, reported as GitHub does. */
  private runWorkflow(run: Run): void {
    const deploymentId = Number(run.inputs.deployment_id);
    const deployment = this.deployments.find((d) => d.id === deploymentId);
    const web = `${this.webUrl}/${this.fullName}`;
    const runUrl = `${web}/actions/runs/${run.id}`;
    this.later(Math.floor(this.options.workflowMs / 3), async () => {
      run.status = "in_progress";
      if (deployment) await this.reportStatus(deployment, "in_progress", "deploying", runUrl);
    });
    this.later(this.options.workflowMs, async () => {
      const commit = this.commits.get(run.inputs.sha ?? "");
      const fails =
        commit?.failsIn?.[run.inputs.component ?? ""]?.includes(run.inputs.environment ?? "") ?? false;
      run.status = "completed";
      run.conclusion = fails ? "failure" : "success";
      run.failedStep = fails ? "Run database migrations" : null;
      run.log = fails
        ? (commit?.failureLog ?? ["Error: the deploy failed"])
        : [`deployed ${run.inputs.component} ${run.inputs.sha} to ${run.inputs.environment}`];
      if (deployment) {
        await this.reportStatus(
          deployment,
          fails ? "failure" : "success",
          fails ? "the deploy failed" : "deployed",
          runUrl,
        );
      }
      await this.send("workflow_run", {
        action: "completed",
        workflow_run: {
          id: run.id,
          name: `deploy ${run.inputs.component}`,
          display_title: this.runTitle(run),
          status: "completed",
          conclusion: run.conclusion,
          html_url: runUrl,
          head_sha: run.inputs.sha,
          head_branch: run.ref,
          event: "workflow_dispatch",
        },
        repository: this.repository(),
        installation: { id: this.options.installationId },
      });
    });
  }

  private runTitle(run: Run): string {
    return `deploy ${run.inputs.component} ${run.inputs.sha} to ${run.inputs.environment} (deployment ${run.inputs.deployment_id})`;
  }

  private async reportStatus(deployment: Deployment, state: string, description: string, logUrl: string) {
    const status = {
      id: this.nextStatusId++,
      state,
      description,
      created_at: new Date().toISOString(),
      log_url: logUrl,
    };
    deployment.statuses.unshift(status);
    await this.send("deployment_status", {
      action: "created",
      deployment_status: {
        ...status,
        target_url: logUrl,
        environment: deployment.environment,
        performed_via_github_app: null,
      },
      deployment: {
        id: deployment.id,
        sha: deployment.sha,
        ref: deployment.ref,
        environment: deployment.environment,
        payload: deployment.payload,
      },
      repository: this.repository(),
      installation: { id: this.options.installationId },
    });
  }

  private route(request: ServiceRequest): ServiceReply {
    if (request.path.startsWith("/api/v3/")) return this.api(request, request.path.slice("/api/v3".length));
    if (request.method === "GET") return this.webPage(request.path);
    return notFound;
  }

  /** A web address deploybot links to: a page that says what GitHub would show there. */
  private webPage(path: string): ServiceReply {
    const escaped = path.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const run = /\/actions\/runs\/(\d+)$/.exec(path);
    const found = run ? this.runs.find((r) => r.id === Number(run[1])) : undefined;
    const detail = found
      ? `<p>Workflow <code>${found.workflow}</code>: ${found.status}${found.conclusion ? `, ${found.conclusion}` : ""}.</p><pre>${found.log.join("\n").replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`
      : "";
    return {
      status: 200,
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Simulated GitHub</title></head><body><h1>Simulated GitHub</h1><p>On GitHub this address would show <code>${escaped}</code>.</p>${detail}</body></html>`,
    };
  }

  private api(request: ServiceRequest, path: string): ServiceReply {
    const { method } = request;
    if (method === "GET" && path === "/app") {
      return {
        status: 200,
        json: { id: this.options.appId, slug: "deploybot-demo", name: "deploybot (demo)" },
      };
    }
    const token = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (method === "POST" && token) {
      if (Number(token[1]) !== this.options.installationId) return notFound;
      const expires = new Date(Date.now() + 3600_000).toISOString();
      return {
        status: 201,
        json: { token: `ghs_demo${randomUUID().replace(/-/g, "")}`, expires_at: expires, permissions: {} },
      };
    }
    const prefix = `/repos/${this.fullName}`;
    if (!path.startsWith(prefix)) return notFound;
    return this.repoApi(request, path.slice(prefix.length));
  }

  private repoApi(request: ServiceRequest, rest: string): ServiceReply {
    const { method, query } = request;
    const web = `${this.webUrl}/${this.fullName}`;
    if (method === "GET" && rest === "") return { status: 200, json: this.repository() };
    if (method === "GET" && rest === "/contents/.github/deploybot.yml") {
      return { status: 200, text: this.options.configYaml };
    }
    if (method === "GET" && rest.startsWith("/contents/")) return notFound;
    const branch = /^\/branches\/([^/]+)$/.exec(rest);
    if (method === "GET" && branch) {
      const head = [...this.commits.values()].at(-1);
      return head ? { status: 200, json: { name: branch[1], commit: { sha: head.sha } } } : notFound;
    }
    const files = /^\/pulls\/(\d+)\/files$/.exec(rest);
    if (method === "GET" && files) {
      const pull = this.pulls.get(Number(files[1]));
      if (!pull) return notFound;
      return {
        status: 200,
        json: pull.files.map((filename, index) => ({
          sha: sampleSha(`${pull.number}:${index}`),
          filename,
          status: "modified",
          additions: 10,
          deletions: 2,
          changes: 12,
        })),
      };
    }
    const commit = /^\/commits\/([0-9a-f]{40})\/(status|check-runs)$/.exec(rest);
    if (method === "GET" && commit) {
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
    if (rest === "/deployments") {
      if (method === "GET") {
        const sha = query.get("sha");
        const environment = query.get("environment");
        const list = this.deployments
          .filter((d) => (!sha || d.sha === sha) && (!environment || d.environment === environment))
          .sort((a, b) => b.id - a.id)
          .map(({ statuses: _statuses, ...d }) => d);
        return { status: 200, json: list };
      }
      if (method === "POST") {
        const body = json(request);
        const ref = String(body.ref ?? "");
        const deployment: Deployment = {
          id: this.nextDeploymentId++,
          sha: /^[0-9a-f]{40}$/.test(ref) ? ref : ([...this.commits.values()].at(-1)?.sha ?? ""),
          ref,
          environment: String(body.environment ?? "production"),
          payload: body.payload ?? {},
          description: typeof body.description === "string" ? body.description : null,
          created_at: new Date().toISOString(),
          statuses: [],
        };
        this.deployments.push(deployment);
        const { statuses: _statuses, ...created } = deployment;
        return { status: 201, json: created };
      }
    }
    const statuses = /^\/deployments\/(\d+)\/statuses$/.exec(rest);
    if (statuses) {
      const deployment = this.deployments.find((d) => d.id === Number(statuses[1]));
      if (!deployment) return notFound;
      if (method === "GET") return { status: 200, json: deployment.statuses };
      if (method === "POST") {
        const body = json(request);
        const status = {
          id: this.nextStatusId++,
          state: String(body.state ?? "pending"),
          description: String(body.description ?? ""),
          created_at: new Date().toISOString(),
          log_url: null,
        };
        deployment.statuses.unshift(status);
        return { status: 201, json: status };
      }
    }
    const dispatch = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest);
    if (method === "POST" && dispatch) {
      const body = json(request);
      const run: Run = {
        id: this.nextRunId++,
        workflow: dispatch[1]!,
        inputs: (body.inputs ?? {}) as Record<string, string>,
        ref: String(body.ref ?? "main"),
        status: "queued",
        conclusion: null,
        failedStep: null,
        log: [],
      };
      this.runs.push(run);
      this.runWorkflow(run);
      if (body.return_run_details !== true) return { status: 204 };
      return {
        status: 200,
        json: {
          workflow_run_id: run.id,
          run_url: `${this.webUrl}/api/v3/repos/${this.fullName}/actions/runs/${run.id}`,
          html_url: `${web}/actions/runs/${run.id}`,
        },
      };
    }
    const runs = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest);
    if (method === "GET" && runs) {
      const list = this.runs
        .filter((r) => r.workflow === runs[1])
        .reverse()
        .map((r) => ({
          id: r.id,
          name: `deploy ${r.inputs.component}`,
          display_title: this.runTitle(r),
          event: "workflow_dispatch",
          status: r.status,
          conclusion: r.conclusion,
          head_branch: r.ref,
          html_url: `${web}/actions/runs/${r.id}`,
        }));
      return { status: 200, json: { total_count: list.length, workflow_runs: list } };
    }
    const jobs = /^\/actions\/runs\/(\d+)\/jobs$/.exec(rest);
    if (method === "GET" && jobs) {
      const run = this.runs.find((r) => r.id === Number(jobs[1]));
      if (!run) return notFound;
      const conclusion = run.conclusion;
      return {
        status: 200,
        json: {
          total_count: 1,
          jobs: [
            {
              id: run.id * 10,
              run_id: run.id,
              name: "deploy",
              status: run.status,
              conclusion,
              html_url: `${web}/actions/runs/${run.id}/job/${run.id * 10}`,
              steps: [
                { name: "Check out", status: "completed", conclusion: "success", number: 1 },
                {
                  name: run.failedStep ?? "Run database migrations",
                  status: "completed",
                  conclusion: run.failedStep ? "failure" : conclusion,
                  number: 2,
                },
              ],
            },
          ],
        },
      };
    }
    const logs = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest);
    if (method === "GET" && logs) {
      const run = this.runs.find((r) => r.id * 10 === Number(logs[1]));
      return run ? { status: 200, text: run.log.join("\n") } : notFound;
    }
    if (method === "GET" && rest.startsWith("/compare/")) {
      const [base = "", head = ""] = rest.slice("/compare/".length).split("...");
      const commits = [...this.commits.values()];
      const from = commits.findIndex((c) => c.sha === base);
      const to = commits.findIndex((c) => c.sha === head);
      const between = from >= 0 && to > from ? commits.slice(from + 1, to + 1) : [];
      return {
        status: 200,
        json: {
          status: between.length > 0 ? "ahead" : "identical",
          ahead_by: between.length,
          behind_by: 0,
          total_commits: between.length,
          html_url: `${web}/compare/${base}...${head}`,
          commits: between.map((c) => ({
            sha: c.sha,
            commit: { message: c.message },
            html_url: `${web}/commit/${c.sha}`,
          })),
          files: [],
        },
      };
    }
    const issueComments = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (issueComments) {
      const issue = Number(issueComments[1]);
      if (method === "GET") {
        return {
          status: 200,
          json: this.comments.filter((c) => c.issue === issue).map((c) => this.comment(c)),
        };
      }
      if (method === "POST") {
        const comment = { id: this.nextCommentId++, issue, body: String(json(request).body ?? "") };
        this.comments.push(comment);
        return { status: 201, json: this.comment(comment) };
      }
    }
    const editComment = /^\/issues\/comments\/(\d+)$/.exec(rest);
    if (method === "PATCH" && editComment) {
      const comment = this.comments.find((c) => c.id === Number(editComment[1]));
      if (!comment) return notFound;
      comment.body = String(json(request).body ?? comment.body);
      return { status: 200, json: this.comment(comment) };
    }
    return notFound;
  }

  private comment(c: { id: number; issue: number; body: string }) {
    return {
      id: c.id,
      body: c.body,
      user: { login: "deploybot-demo[bot]", type: "Bot" },
      performed_via_github_app: { id: this.options.appId },
      html_url: `${this.webUrl}/${this.fullName}/pull/${c.issue}#issuecomment-${c.id}`,
    };
  }
}
