import { createHash } from "node:crypto";
import type { ServiceReply, ServiceRequest } from "./http-service.js";

/** The state of the demo's simulated GitHub repository, shared by its REST routes and its workflows. */

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

export interface Deployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  payload: unknown;
  description: string | null;
  created_at: string;
  statuses: { id: number; state: string; description: string; created_at: string; log_url: string | null }[];
}

export interface Run {
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

export interface IssueComment {
  id: number;
  issue: number;
  body: string;
}

/** A commit SHA for a sample commit, stable across runs. */
export function sampleSha(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

export function json(request: ServiceRequest): Record<string, unknown> {
  if (!request.body) return {};
  try {
    const value = JSON.parse(request.body) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const notFound: ServiceReply = {
  status: 404,
  json: { message: "Not Found", documentation_url: "https://docs.github.com/rest" },
};

/** One sample repository: its commits, pull requests, deployments, workflow runs and PR comments. */
export class SimulatedRepo {
  readonly deployments: Deployment[] = [];
  readonly runs: Run[] = [];
  readonly comments: IssueComment[] = [];
  readonly pulls = new Map<number, SamplePullRequest>();
  readonly commits = new Map<string, SampleCommit>();
  private nextDeploymentId = 101;
  private nextRunId = 9001;
  private nextStatusId = 1;
  private nextCommentId = 501;

  constructor(
    readonly options: GitHubSimulatorOptions,
    /** The simulated web address, known once the service listens. */
    private readonly webUrlOf: () => string,
  ) {}

  get webUrl(): string {
    return this.webUrlOf();
  }

  get fullName(): string {
    return `${this.options.owner}/${this.options.repo}`;
  }

  /** The repository's web address: `<web>/<owner>/<name>`. */
  get web(): string {
    return `${this.webUrl}/${this.fullName}`;
  }

  newDeploymentId(): number {
    return this.nextDeploymentId++;
  }

  newRunId(): number {
    return this.nextRunId++;
  }

  newStatusId(): number {
    return this.nextStatusId++;
  }

  newCommentId(): number {
    return this.nextCommentId++;
  }

  latestCommit(): SampleCommit | undefined {
    return [...this.commits.values()].at(-1);
  }

  /** The repository as webhooks and the REST API show it. */
  repository() {
    return {
      id: 1,
      name: this.options.repo,
      full_name: this.fullName,
      owner: { login: this.options.owner },
      default_branch: "main",
      html_url: this.web,
    };
  }

  runTitle(run: Run): string {
    return `deploy ${run.inputs.component} ${run.inputs.sha} to ${run.inputs.environment} (deployment ${run.inputs.deployment_id})`;
  }

  /** A PR comment as the REST API shows it. */
  comment(c: IssueComment) {
    return {
      id: c.id,
      body: c.body,
      user: { login: "deploybot-demo[bot]", type: "Bot" },
      performed_via_github_app: { id: this.options.appId },
      html_url: `${this.web}/pull/${c.issue}#issuecomment-${c.id}`,
    };
  }
}
