import { z } from "zod";
import { Sha } from "../thread/next-step.js";

/**
 * The parts of GitHub's webhook payloads deploybot reads, as zod schemas. The inbox stores whole
 * payloads; the worker parses them here, so a payload that lacks a field, or holds one GitHub
 * never sends (a SHA that is not 40 hex characters, a repository name with a slash), is set aside
 * at once instead of reaching a URL, a branch or a thread.
 */

/** A GitHub account login: letters, digits, `-` and `_` (managed users), `[bot]` for apps. */
export const GitHubLogin = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}(\[bot\])?$/, "expected a GitHub login");
const RepoName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a repository name");
const Id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const WebUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
/** A branch or environment name: no control characters, bounded. */
const Name = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (text) => ![...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    "expected a name without control characters",
  );

const Repository = z
  .object({
    name: RepoName,
    full_name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\/[A-Za-z0-9._-]{1,100}$/, "expected owner/name"),
    owner: z.object({ login: GitHubLogin }),
  })
  .refine((repo) => repo.full_name === `${repo.owner.login}/${repo.name}`, {
    message: "full_name must be owner.login/name",
    path: ["full_name"],
  });

export const Installation = z.object({ id: Id });

/**
 * What every webhook must satisfy before it is stored: an object, and an installation (when there
 * is one) with a numeric id. Probot authenticates with that id before any handler runs. The
 * server checks the envelope alone (`{ installation }`), not the whole payload.
 */
export const WebhookEnvelope = z.object({ installation: Installation.optional() });

export const PullRequestClosed = z.object({
  action: z.literal("closed"),
  installation: Installation,
  repository: Repository,
  pull_request: z.object({
    number: Id,
    title: z.string(),
    body: z.string().nullable(),
    html_url: WebUrl,
    merged: z.boolean().nullable(),
    merge_commit_sha: Sha.nullable(),
    user: z.object({ login: GitHubLogin }).nullable(),
    base: z.object({ ref: Name }),
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
    performed_via_github_app: z.object({ id: Id }).nullable().optional(),
  }),
  deployment: z.object({ id: Id, sha: Sha, environment: Name }),
});
export type DeploymentStatusCreated = z.infer<typeof DeploymentStatusCreated>;

export const WorkflowRunCompleted = z.object({
  action: z.literal("completed"),
  installation: Installation.optional(),
  repository: Repository,
  workflow_run: z.object({
    id: Id,
    name: z.string().nullable().optional(),
    display_title: z.string().optional(),
    conclusion: z.string().nullable(),
    html_url: WebUrl,
    head_sha: Sha,
  }),
});
export type WorkflowRunCompleted = z.infer<typeof WorkflowRunCompleted>;

/** A new comment on an issue or a pull request (`issue.pull_request` is present on a pull request). */
export const IssueCommentCreated = z.object({
  action: z.literal("created"),
  installation: Installation,
  repository: Repository,
  issue: z.object({
    number: Id,
    pull_request: z.object({ url: z.string() }).nullable().optional(),
  }),
  comment: z.object({
    id: Id,
    body: z.string().max(65_536),
    html_url: WebUrl,
    user: z.object({ login: GitHubLogin, type: z.string() }).nullable(),
  }),
});
export type IssueCommentCreated = z.infer<typeof IssueCommentCreated>;

/** A deployment was created; by a workflow run's job (`environment:`) when `workflow_run` is set. */
export const DeploymentCreatedHook = z.object({
  action: z.literal("created"),
  installation: Installation.optional(),
  repository: Repository,
  deployment: z.object({ id: Id, sha: Sha, environment: Name }),
  workflow_run: z.object({ id: Id, html_url: WebUrl }).nullable().optional(),
});
export type DeploymentCreatedHook = z.infer<typeof DeploymentCreatedHook>;

/** GitHub asks deploybot, a custom deployment protection rule, whether a run may deploy. */
export const DeploymentProtectionRuleRequested = z.object({
  action: z.literal("requested"),
  installation: Installation,
  repository: Repository,
  environment: Name,
  event: z.string().optional(),
  deployment_callback_url: WebUrl,
  deployment: z.object({ id: Id, sha: Sha, environment: Name }).nullable().optional(),
});
export type DeploymentProtectionRuleRequested = z.infer<typeof DeploymentProtectionRuleRequested>;

/** The run a protection rule's callback URL reviews (`.../actions/runs/{run_id}/deployment_protection_rule`). */
export function runIdOfCallback(url: string): number | null {
  const match = /\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(new URL(url).pathname);
  return match ? Number(match[1]) : null;
}

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
