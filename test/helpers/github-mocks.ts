import nock from "nock";
import { INSTALLATION_ID, MERGE_SHA, OWNER, REPO } from "./fixtures.js";

/** Named nock helpers for the GitHub calls deploybot makes; each returns its scope to assert on. */

export const API = "https://api.github.com";
const repoPath = `/repos/${OWNER}/${REPO}`;

export const CONFIG_YAML = `
branch: main
components:
  backend:
    paths: ["api/**", "server/**"]
    workflow: deploy-backend.yml
  frontend:
    paths: ["web/**"]
    workflow: deploy-frontend.yml
environments:
  - name: staging
  - name: production
    approval: required
    approvers: [U01APPROVER, S01RELEASETEAM]
    approval_expires_after: 24h
slack:
  channel: C01DEPLOYS
users:
  octocat: U01OCTOCAT
`;

/** The same config without approval on production, so a deploy runs through to the end. */
export const CONFIG_NO_APPROVAL_YAML = CONFIG_YAML.replace(
  "    approval: required\n    approvers: [U01APPROVER, S01RELEASETEAM]\n",
  "",
);

/** The same config with GitHub approvers for production, reachable without Slack. */
export const CONFIG_GITHUB_APPROVERS_YAML = CONFIG_YAML.replace(
  "    approval_expires_after: 24h\n",
  "    github_approvers: [Hubot, octocat]\n    approval_expires_after: 24h\n",
);

export function mockInstallationToken(): nock.Scope {
  return nock(API)
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`)
    .reply(201, { token: "ghs_installationtoken", expires_at: "2099-01-01T00:00:00Z", permissions: {} });
}

export function mockRepoConfig(yaml: string | null, defaultBranch = "main"): nock.Scope {
  const scope = nock(API)
    .get(repoPath)
    .reply(200, { name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: defaultBranch });
  const content = scope.get(`${repoPath}/contents/.github%2Fdeploybot.yml`).query({ ref: defaultBranch });
  if (yaml === null) {
    // Without a file of its own, the owner's .github repository's file applies (Probot's config loader).
    return content
      .reply(404, { message: "Not Found" })
      .get(`/repos/${OWNER}/.github/contents/.github%2Fdeploybot.yml`)
      .reply(404, { message: "Not Found" });
  }
  return content
    .matchHeader("accept", /raw/)
    .reply(200, yaml, { "content-type": "text/plain; charset=utf-8" });
}

export function mockPullFiles(number: number, files: string[]): nock.Scope {
  return nock(API)
    .get(`${repoPath}/pulls/${number}/files`)
    .query({ per_page: "100" })
    .reply(
      200,
      files.map((filename, index) => ({
        sha: String(index).padStart(40, "0"),
        filename,
        status: "modified",
      })),
    );
}

export function mockDeploymentHistory(
  environments: string[],
  deployments: Record<string, { id: number; sha: string; component: string; success: boolean }[]> = {},
): nock.Scope {
  const scope = nock(API);
  for (const environment of environments) {
    const list = deployments[environment] ?? [];
    scope
      .get(`${repoPath}/deployments`)
      .query({ environment, per_page: "50" })
      .reply(
        200,
        list.map((d) => ({
          id: d.id,
          sha: d.sha,
          environment,
          payload: { component: d.component, thread_id: "th_earlier", step_seq: 6, created_by: "deploybot" },
        })),
      );
    for (const d of list) {
      scope
        .get(`${repoPath}/deployments/${d.id}/statuses`)
        .query({ per_page: "100" })
        .reply(200, [
          { id: d.id * 10 + 1, state: "inactive", created_at: "2026-11-20T10:05:00Z" },
          { id: d.id * 10, state: d.success ? "success" : "failure", created_at: "2026-11-20T10:00:00Z" },
        ]);
    }
  }
  return scope;
}

export function mockCiState(sha: string, state: "success" | "failure" | "pending" = "success"): nock.Scope {
  return nock(API)
    .get(`${repoPath}/commits/${sha}/status`)
    .query({ per_page: "100" })
    .reply(200, { state, statuses: [{ context: "ci/test", state }] })
    .get(`${repoPath}/commits/${sha}/check-runs`)
    .query({ per_page: "100" })
    .reply(200, {
      total_count: 1,
      check_runs: [
        state === "pending"
          ? { name: "build", status: "in_progress", conclusion: null }
          : { name: "build", status: "completed", conclusion: "success" },
      ],
    });
}

export interface DeploymentBody {
  ref: string;
  environment: string;
  auto_merge: boolean;
  required_contexts: string[];
  payload: { component: string; thread_id: string; step_seq: number };
}

/**
 * Creating a deployment whose intent this very run recorded: nothing to look for first, so only the
 * create. Records the body sent.
 */
export function mockCreateDeployment(
  id: number,
  expected: { sha: string; environment: string },
  sent: DeploymentBody[] = [],
): nock.Scope {
  return nock(API)
    .post(`${repoPath}/deployments`, (body: DeploymentBody) => {
      sent.push(body);
      return body.ref === expected.sha && body.environment === expected.environment;
    })
    .reply(201, { id, sha: expected.sha, environment: expected.environment });
}

export interface DispatchBody {
  ref: string;
  inputs: Record<string, string>;
  return_run_details?: boolean;
}

export function mockDispatch(workflow: string, runId: number, sent: DispatchBody[] = []): nock.Scope {
  return nock(API)
    .post(`${repoPath}/actions/workflows/${workflow}/dispatches`, (body: DispatchBody) => {
      sent.push(body);
      return true;
    })
    .reply(200, {
      workflow_run_id: runId,
      run_url: `${API}${repoPath}/actions/runs/${runId}`,
      html_url: `https://github.com/${OWNER}/${REPO}/actions/runs/${runId}`,
    });
}

/** What every merge reads: the token, the config, the PR's files, what runs where, CI state. */
export function mockMergeContext(
  options: {
    config?: string;
    number?: number;
    sha?: string;
    files?: string[];
    history?: Parameters<typeof mockDeploymentHistory>[1];
    token?: boolean;
  } = {},
): nock.Scope[] {
  return [
    ...(options.token === false ? [] : [mockInstallationToken()]),
    mockRepoConfig(options.config ?? CONFIG_YAML),
    mockPullFiles(options.number ?? 7, options.files ?? ["api/cart.ts"]),
    mockDeploymentHistory(["staging", "production"], options.history),
    mockCiState(options.sha ?? MERGE_SHA),
  ];
}

/**
 * What a thread started in words (a PR comment, Slack, the REST API) reads: the config, the tip of
 * the deploy branch (`head`), what runs where and CI. The installation token is the caller's.
 */
export function mockRequestContext(
  config: string,
  head: string,
  history?: Parameters<typeof mockDeploymentHistory>[1],
): nock.Scope[] {
  return [
    mockRepoConfig(config),
    nock(API)
      .get(`${repoPath}/branches/main`)
      .reply(200, { name: "main", commit: { sha: head } }),
    mockDeploymentHistory(["staging", "production"], history),
    mockCiState(head),
  ];
}

/** GitHub's comparison of two commits: where `head` stands relative to `base`. */
export function mockCompare(
  base: string,
  head: string,
  status: "ahead" | "behind" | "identical" | "diverged" = "ahead",
): nock.Scope {
  return nock(API)
    .get(`${repoPath}/compare/${base}...${head}`)
    .query({ per_page: "1" })
    .reply(200, {
      status,
      ahead_by: status === "ahead" || status === "diverged" ? 1 : 0,
      behind_by: status === "behind" || status === "diverged" ? 1 : 0,
    });
}

/** The permission GitHub reports for `login` on the repository (admin, write, read, none). */
export function mockPermission(login: string, permission: string): nock.Scope {
  return nock(API)
    .get(`${repoPath}/collaborators/${login}/permission`)
    .reply(200, { permission, role_name: permission, user: { login } });
}

/** A reaction on a comment; records its content. */
export function mockReaction(commentId: number, sent: string[] = []): nock.Scope {
  return nock(API)
    .post(`${repoPath}/issues/comments/${commentId}/reactions`, (body: { content: string }) => {
      sent.push(body.content);
      return true;
    })
    .reply(201, { id: 1, content: "eyes" });
}

/** A pull request, merged as `sha` (or open when `sha` is null). */
export function mockPullRequest(number: number, sha: string | null = MERGE_SHA): nock.Scope {
  return nock(API)
    .get(`${repoPath}/pulls/${number}`)
    .reply(200, { number, merged: sha !== null, merge_commit_sha: sha, state: sha ? "closed" : "open" });
}

/** A new comment on issue or PR #`number`; records its body. */
export function mockIssueComment(number: number, bodies: string[] = [], id = 80_001): nock.Scope {
  return nock(API)
    .post(`${repoPath}/issues/${number}/comments`, (body: { body: string }) => {
      bodies.push(body.body);
      return true;
    })
    .reply(201, { id, body: "" });
}
