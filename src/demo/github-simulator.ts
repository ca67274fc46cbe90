import { createHmac, randomUUID } from "node:crypto";
import { actionsRoutes } from "./github-actions-routes.js";
import { codeRoutes } from "./github-code-routes.js";
import {
  notFound,
  SimulatedRepo,
  type Deployment,
  type GitHubSimulatorOptions,
  type Run,
  type SampleCommit,
  type SamplePullRequest,
} from "./github-repo-model.js";
import { HttpService, type ServiceReply, type ServiceRequest } from "./http-service.js";

/**
 * A simulated GitHub for the demo: the REST routes deploybot calls, under GitHub Enterprise
 * Server's `/api/v3` prefix, for one sample repository; workflows that run when dispatched and
 * report back the way a deploy workflow does (a deployment status, then the run's completion),
 * as signed webhooks to deploybot's own endpoint. Web addresses (a commit, a run) answer with a
 * short page saying what they would show.
 */

export class GitHubSimulator {
  readonly service: HttpService;
  /** The repository's state: commits, pull requests, deployments, runs and comments. */
  readonly repo: SimulatedRepo;
  private webhook: { url: string; secret: string } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Webhook deliveries that failed (deploybot down): the demo reports them. */
  readonly deliveryErrors: string[] = [];

  constructor(private readonly options: GitHubSimulatorOptions) {
    this.service = new HttpService("GitHub", (request) => this.route(request));
    this.repo = new SimulatedRepo(options, () => this.webUrl);
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
    this.repo.commits.set(commit.sha, commit);
  }

  /** Merges a sample pull request: GitHub sends `pull_request.closed` with `merged: true`. */
  async merge(pull: SamplePullRequest): Promise<void> {
    this.repo.pulls.set(pull.number, pull);
    this.addCommit(pull.commit);
    const web = this.repo.web;
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
      repository: this.repo.repository(),
      installation: { id: this.options.installationId },
      sender: { login: pull.author },
    });
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
    const deployment = this.repo.deployments.find((d) => d.id === deploymentId);
    const web = this.repo.web;
    const runUrl = `${web}/actions/runs/${run.id}`;
    this.later(Math.floor(this.options.workflowMs / 3), async () => {
      run.status = "in_progress";
      if (deployment) await this.reportStatus(deployment, "in_progress", "deploying", runUrl);
    });
    this.later(this.options.workflowMs, async () => {
      const commit = this.repo.commits.get(run.inputs.sha ?? "");
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
          display_title: this.repo.runTitle(run),
          status: "completed",
          conclusion: run.conclusion,
          html_url: runUrl,
          head_sha: run.inputs.sha,
          head_branch: run.ref,
          event: "workflow_dispatch",
        },
        repository: this.repo.repository(),
        installation: { id: this.options.installationId },
      });
    });
  }

  private async reportStatus(deployment: Deployment, state: string, description: string, logUrl: string) {
    const status = {
      id: this.repo.newStatusId(),
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
      repository: this.repo.repository(),
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
    const found = run ? this.repo.runs.find((r) => r.id === Number(run[1])) : undefined;
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
    const rest = path.slice(prefix.length);
    return (
      codeRoutes(this.repo, request, rest) ??
      actionsRoutes(this.repo, request, rest, (run) => this.runWorkflow(run)) ??
      notFound
    );
  }
}
