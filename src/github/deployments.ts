import { statusOf } from "./errors.js";
import { z } from "zod";
import type { RepoConfig } from "../config/repo-config.js";
import type { Octokit } from "./repository.js";
import type { RepoRef } from "../thread/text.js";
import { clip } from "../thread/text.js";

/** GitHub Deployments and workflow dispatch, by the deploy workflow contract (docs/workflows.md). */

/** What deploybot writes into a deployment's payload, and reads back from webhooks. */
export const DeploymentPayload = z.object({
  component: z.string(),
  thread_id: z.string(),
  step_seq: z.number().int(),
  created_by: z.literal("deploybot"),
});
export type DeploymentPayload = z.infer<typeof DeploymentPayload>;

export function readDeploymentPayload(payload: unknown): DeploymentPayload | null {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null; // someone else's free-form payload: not ours
    }
  }
  const parsed = DeploymentPayload.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * The component a deployment on GitHub deployed, whoever created it: the `component` its payload
 * names (deploybot's own, or another tool's that follows the same convention), or, in a repository
 * with a single component, that component whatever the payload.
 */
export function componentOfDeployment(payload: unknown, config: RepoConfig): string | null {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      value = null; // a free-form payload names no component
    }
  }
  const named = z.object({ component: z.string() }).safeParse(value);
  if (named.success && named.data.component in config.components) return named.data.component;
  const components = Object.keys(config.components);
  return components.length === 1 ? components[0]! : null;
}

export class GitHubStepError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "GitHubStepError";
  }
}

function compactGitHubError(action: string, error: unknown): GitHubStepError {
  const status = statusOf(error);
  const message = error instanceof Error ? clip(error.message.split("\n")[0]!, 200) : String(error);
  return new GitHubStepError(`${action} failed${status ? ` (HTTP ${status})` : ""}: ${message}`, status);
}

export interface LastGood {
  component: string;
  environment: string;
  sha: string;
  deploymentId: number;
  at: string;
  /** The good SHA before this one, where a rollback goes, if the candidates show one. */
  previousSha: string | null;
}

/**
 * The last successful deployment per component and environment, from GitHub's Deployments API,
 * whoever created it (see `componentOfDeployment`), so history from before deploybot counts.
 * Any status `success` counts, not only the latest one (auto_inactive marks older ones inactive).
 * Looks at the newest few candidates per component only, to bound the calls.
 */
export async function lastGoodDeploymentsOnGitHub(
  octokit: Octokit,
  ref: RepoRef,
  config: RepoConfig,
  wanted: { component: string; environment: string }[],
  candidatesPerComponent = 5,
): Promise<LastGood[]> {
  const found: LastGood[] = [];
  const environments = [...new Set(wanted.map((w) => w.environment))];
  for (const environment of environments) {
    const { data: deployments } = await octokit.rest.repos.listDeployments({
      ...ref,
      environment,
      per_page: 50,
    });
    const newestFirst = [...deployments].sort((a, b) => b.id - a.id);
    for (const { component } of wanted.filter((w) => w.environment === environment)) {
      if (!(component in config.components)) continue;
      const candidates = newestFirst
        .filter((d) => componentOfDeployment(d.payload, config) === component)
        .slice(0, candidatesPerComponent);
      let current: LastGood | null = null;
      for (const candidate of candidates) {
        if (current && candidate.sha === current.sha) continue;
        const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({
          ...ref,
          deployment_id: candidate.id,
          per_page: 100,
        });
        const success = statuses.find((s) => s.state === "success");
        if (!success) continue;
        if (current) {
          current.previousSha = candidate.sha;
          break;
        }
        current = {
          component,
          environment,
          sha: candidate.sha,
          deploymentId: candidate.id,
          at: success.created_at,
          previousSha: null,
        };
        found.push(current);
      }
    }
  }
  return found;
}

/**
 * Octokit retries a failed request by itself (5xx, resets, timeouts). A write that creates something
 * may have been done by GitHub even when its answer is lost, so those writes are never retried
 * blindly: the caller looks for the result first (reads keep their retries).
 */
export const NO_BLIND_RETRY = { retries: 0 };

export interface DeploymentRequest {
  sha: string;
  environment: string;
  component: string;
  threadId: string;
  stepSeq: number;
  description: string;
  requiredContexts: string[];
  productionEnvironment: boolean;
}

/** A deployment deploybot already created for this thread step (its idempotency key), if any. */
export async function findDeploymentForStep(
  octokit: Octokit,
  ref: RepoRef,
  request: Pick<DeploymentRequest, "sha" | "environment" | "threadId" | "stepSeq">,
): Promise<number | null> {
  const { data } = await octokit.rest.repos.listDeployments({
    ...ref,
    sha: request.sha,
    environment: request.environment,
    per_page: 100,
  });
  const match = data.find((d) => {
    const payload = readDeploymentPayload(d.payload);
    return payload?.thread_id === request.threadId && payload.step_seq === request.stepSeq;
  });
  return match ? match.id : null;
}

export async function createDeployment(
  octokit: Octokit,
  ref: RepoRef,
  request: DeploymentRequest,
): Promise<number> {
  const payload: DeploymentPayload = {
    component: request.component,
    thread_id: request.threadId,
    step_seq: request.stepSeq,
    created_by: "deploybot",
  };
  let response;
  try {
    response = await octokit.rest.repos.createDeployment({
      ...ref,
      ref: request.sha,
      environment: request.environment,
      task: "deploy",
      auto_merge: false,
      required_contexts: request.requiredContexts,
      payload,
      description: clip(request.description, 140),
      production_environment: request.productionEnvironment,
      request: NO_BLIND_RETRY,
    });
  } catch (error) {
    throw compactGitHubError("createDeployment", error);
  }
  if (response.status !== 201 || !("id" in response.data)) {
    const message = "message" in response.data ? String(response.data.message) : `status ${response.status}`;
    throw new GitHubStepError(`createDeployment did not create a deployment: ${message}`, response.status);
  }
  return response.data.id;
}

export interface DispatchRequest {
  workflow: string;
  branch: string;
  /** `deployment_id` only when deploybot created the deployment (`deployments: deploybot`). */
  inputs: { environment: string; sha: string; component: string; deployment_id?: string };
}

export interface DispatchResult {
  runId: number | null;
  runUrl: string | null;
}

/**
 * Dispatches the component's workflow, asking for the run's id. Servers that do not know
 * `return_run_details` (older GitHub Enterprise Server) answer 400/422: dispatch again without it,
 * and let the run be correlated later by its run-name.
 */
export async function dispatchWorkflow(
  octokit: Octokit,
  ref: RepoRef,
  request: DispatchRequest,
): Promise<DispatchResult> {
  const route = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches" as const;
  const parameters = {
    ...ref,
    workflow_id: request.workflow,
    ref: request.branch,
    inputs: request.inputs,
    request: NO_BLIND_RETRY,
  };
  try {
    const response = await octokit.request(route, { ...parameters, return_run_details: true });
    const data = response.data as { workflow_run_id?: number | bigint; html_url?: string } | undefined;
    return {
      runId: data?.workflow_run_id !== undefined ? Number(data.workflow_run_id) : null,
      runUrl: data?.html_url ?? null,
    };
  } catch (error) {
    const status = error instanceof GitHubStepError ? error.status : compactGitHubError("", error).status;
    if (status !== 400 && status !== 422) throw compactGitHubError(`dispatch of ${request.workflow}`, error);
  }
  try {
    await octokit.request(route, parameters);
    return { runId: null, runUrl: null };
  } catch (error) {
    throw compactGitHubError(`dispatch of ${request.workflow}`, error);
  }
}

/**
 * A run already dispatched for this deployment, found by the run-name the workflow contract asks
 * for ("... (deployment <id>)"). Used after a crash, when it is unknown whether the dispatch went out.
 */
export async function findDispatchedRun(
  octokit: Octokit,
  ref: RepoRef,
  workflow: string,
  deploymentId: number,
): Promise<DispatchResult | null> {
  return findRecentDispatch(octokit, ref, workflow, (run) =>
    run.display_title.includes(`(deployment ${deploymentId})`),
  );
}

/** The newest of the workflow's last 50 dispatched runs that `matches`, or null. */
export async function findRecentDispatch(
  octokit: Octokit,
  ref: RepoRef,
  workflow: string,
  matches: (run: { display_title: string; created_at: string }) => boolean,
): Promise<DispatchResult | null> {
  const { data } = await octokit.rest.actions.listWorkflowRuns({
    ...ref,
    workflow_id: workflow,
    event: "workflow_dispatch",
    per_page: 50,
  });
  const run = data.workflow_runs.find(matches);
  return run ? { runId: Number(run.id), runUrl: run.html_url } : null;
}

/** Writes a deployment status; deploybot only does so when it must end a deployment itself. */
export async function setDeploymentStatus(
  octokit: Octokit,
  ref: RepoRef,
  deploymentId: number,
  state: "failure" | "error" | "inactive" | "in_progress",
  description: string,
): Promise<void> {
  await octokit.rest.repos.createDeploymentStatus({
    ...ref,
    deployment_id: deploymentId,
    state,
    description: clip(description, 140),
  });
}
