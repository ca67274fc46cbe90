import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * Real webhook payloads from @octokit/webhooks-examples, adapted to a scenario (a merged PR, a
 * deployment status, a completed run) rather than typed by hand.
 */

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

const require = createRequire(import.meta.url);
const examples = JSON.parse(
  readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
) as ExampleGroup[];

function example(
  name: string,
  predicate: (payload: Record<string, unknown>) => boolean,
): Record<string, unknown> {
  const found = examples.find((group) => group.name === name)?.examples.find(predicate);
  if (!found) throw new Error(`no ${name} example matches`);
  return structuredClone(found);
}

type Json = Record<string, unknown>;
const obj = (value: unknown) => value as Json;

export const OWNER = "acme";
export const REPO = "shop";
export const INSTALLATION_ID = 4242;
export const MERGE_SHA = "0123456789abcdef0123456789abcdef01234567";
export const OLD_SHA = "89abcdef0123456789abcdef0123456789abcdef";

/** Places a payload in a repository: OWNER/REPO unless `fullName` (`owner/name`) names another. */
function placeInRepo(payload: Json, fullName = `${OWNER}/${REPO}`): Json {
  const [owner, name] = fullName.split("/") as [string, string];
  const repository = obj(payload.repository);
  repository.name = name;
  repository.full_name = fullName;
  obj(repository.owner).login = owner;
  payload.installation = { id: INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==" };
  return payload;
}

export function mergedPullRequest(
  options: { number?: number; sha?: string; baseRef?: string; merged?: boolean; repo?: string } = {},
): Json {
  const payload = placeInRepo(
    example("pull_request", (p) => p.action === "closed"),
    options.repo,
  );
  const pr = obj(payload.pull_request);
  pr.number = options.number ?? 7;
  payload.number = pr.number;
  pr.title = "Speed up the checkout API";
  pr.body = "Caches the cart totals.";
  pr.merged = options.merged ?? true;
  pr.merge_commit_sha = options.sha ?? MERGE_SHA;
  obj(pr.base).ref = options.baseRef ?? "main";
  obj(pr.user).login = "octocat";
  return payload;
}

export function deploymentStatus(options: {
  deploymentId: number;
  state: string;
  viaAppId?: number | null;
  description?: string;
  /** `owner/name`; OWNER/REPO by default. */
  repo?: string;
  sha?: string;
  environment?: string;
}): Json {
  const payload = placeInRepo(
    example("deployment_status", (p) => obj(p.deployment_status).state === "success"),
    options.repo,
  );
  const status = obj(payload.deployment_status);
  status.state = options.state;
  status.description = options.description ?? "";
  status.performed_via_github_app = options.viaAppId ? { id: options.viaAppId } : null;
  status.log_url = `https://github.com/${options.repo ?? `${OWNER}/${REPO}`}/actions/runs/1`;
  const deployment = obj(payload.deployment);
  deployment.id = options.deploymentId;
  deployment.sha = options.sha ?? MERGE_SHA;
  if (options.environment) deployment.environment = options.environment;
  return payload;
}

export function workflowRunCompleted(options: { runId: number; conclusion: string; title: string }): Json {
  const payload = placeInRepo(
    example("workflow_run", (p) => p.action === "completed" && obj(p.workflow_run).conclusion === "success"),
  );
  const run = obj(payload.workflow_run);
  run.id = options.runId;
  run.conclusion = options.conclusion;
  run.display_title = options.title;
  run.head_sha = MERGE_SHA;
  return payload;
}

/** A new comment on pull request #`number`, from the `issue_comment.created` example. */
export function prComment(options: {
  body: string;
  login: string;
  commentId?: number;
  number?: number;
  userType?: "User" | "Bot";
}): Json {
  const payload = placeInRepo(example("issue_comment", (p) => p.action === "created"));
  const issue = obj(payload.issue);
  issue.number = options.number ?? 7;
  issue.pull_request = {
    url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${String(issue.number)}`,
    html_url: `https://github.com/${OWNER}/${REPO}/pull/${String(issue.number)}`,
  };
  const comment = obj(payload.comment);
  comment.id = options.commentId ?? 900_001;
  comment.body = options.body;
  obj(comment.user).login = options.login;
  obj(comment.user).type = options.userType ?? "User";
  obj(payload.sender).login = options.login;
  return payload;
}

/** A deployment that a workflow run's job created (`environment:`), from the `deployment.created` example. */
export function deploymentCreatedByRun(options: {
  deploymentId: number;
  environment: string;
  runId: number;
}): Json {
  const payload = placeInRepo(
    example("deployment", (p) => p.action === "created" && Boolean(p.workflow_run)),
  );
  const deployment = obj(payload.deployment);
  deployment.id = options.deploymentId;
  deployment.environment = options.environment;
  deployment.sha = MERGE_SHA;
  const run = obj(payload.workflow_run);
  run.id = options.runId;
  run.html_url = `https://github.com/${OWNER}/${REPO}/actions/runs/${options.runId}`;
  return payload;
}

/**
 * `deployment_protection_rule.requested` for a run. @octokit/webhooks-examples has no example of
 * this event: it is the `deployment.created` example's repository and installation with the fields
 * GitHub documents for it (environment, event, deployment_callback_url).
 */
export function protectionRuleRequested(options: {
  runId: number;
  environment: string;
  event?: string;
}): Json {
  const base = placeInRepo(example("deployment", (p) => p.action === "created" && Boolean(p.workflow_run)));
  return {
    action: "requested",
    environment: options.environment,
    event: options.event ?? "workflow_dispatch",
    deployment_callback_url: `https://api.github.com/repos/${OWNER}/${REPO}/actions/runs/${options.runId}/deployment_protection_rule`,
    deployment: null,
    repository: base.repository,
    installation: base.installation,
    sender: base.sender,
  };
}
