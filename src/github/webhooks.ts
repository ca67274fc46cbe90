import { z } from "zod";

/**
 * The parts of GitHub's webhook payloads deploybot reads, as zod schemas. The inbox stores whole
 * payloads; the worker parses them here, so a payload that lacks a field fails loudly, once.
 */

const Repository = z.object({
  name: z.string(),
  full_name: z.string(),
  owner: z.object({ login: z.string() }),
});

const Installation = z.object({ id: z.number().int() });

export const PullRequestClosed = z.object({
  action: z.literal("closed"),
  installation: Installation,
  repository: Repository,
  pull_request: z.object({
    number: z.number().int(),
    title: z.string(),
    body: z.string().nullable(),
    html_url: z.string(),
    merged: z.boolean().nullable(),
    merge_commit_sha: z.string().nullable(),
    user: z.object({ login: z.string() }).nullable(),
    base: z.object({ ref: z.string() }),
  }),
});
export type PullRequestClosed = z.infer<typeof PullRequestClosed>;

export const DeploymentStatusCreated = z.object({
  action: z.literal("created"),
  installation: Installation.optional(),
  repository: Repository,
  deployment_status: z.object({
    state: z.string(),
    description: z.string().nullable().optional(),
    log_url: z.string().nullable().optional(),
    target_url: z.string().nullable().optional(),
    performed_via_github_app: z.object({ id: z.number().int() }).nullable().optional(),
  }),
  deployment: z.object({ id: z.number().int(), sha: z.string(), environment: z.string() }),
});
export type DeploymentStatusCreated = z.infer<typeof DeploymentStatusCreated>;

export const WorkflowRunCompleted = z.object({
  action: z.literal("completed"),
  installation: Installation.optional(),
  repository: Repository,
  workflow_run: z.object({
    id: z.number().int(),
    name: z.string().nullable().optional(),
    display_title: z.string().optional(),
    conclusion: z.string().nullable(),
    html_url: z.string(),
    head_sha: z.string(),
  }),
});
export type WorkflowRunCompleted = z.infer<typeof WorkflowRunCompleted>;

/** Final deployment states end a deploy; the others (queued, in_progress, ...) are progress. */
export function finalOutcome(state: string): "success" | "failure" | null {
  if (state === "success") return "success";
  if (state === "failure" || state === "error") return "failure";
  return null;
}

/** The deployment id in a run's title, as the example workflows' `run-name` writes it. */
export function deploymentIdInRunTitle(title: string | undefined): number | null {
  const match = title?.match(/\(deployment (\d+)\)/);
  return match ? Number(match[1]) : null;
}
