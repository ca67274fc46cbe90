import nock from "nock";
import { describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import {
  deploymentStatus,
  MERGE_SHA,
  mergedPullRequest,
  OWNER,
  prComment,
  REPO,
} from "../helpers/fixtures.js";
import {
  API,
  CONFIG_GITHUB_APPROVERS_YAML,
  CONFIG_NO_APPROVAL_YAML,
  mockCiState,
  mockCreateDeployment,
  mockDeploymentHistory,
  mockDispatch,
  mockInstallationToken,
  mockIssueComment,
  mockMergeContext,
  mockPermission,
  mockPullRequest,
  mockReaction,
  mockRepoConfig,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

/** PR comments that ask for a deploy, and approvers named by their GitHub team. */

const HEAD = "fedcba9876543210fedcba9876543210fedcba98";
const repoPath = `/repos/${OWNER}/${REPO}`;

describe("a deploy asked for in a pull request comment", () => {
  it("goes through the decider and the policy like a Slack request, and the reply names the thread", async () => {
    const harness = await createHarness();
    const replies: string[] = [];
    const scopes = [
      mockInstallationToken(),
      mockPermission("hubot", "write"),
      mockReaction(900_001),
      mockRepoConfig(CONFIG_NO_APPROVAL_YAML),
      nock(API)
        .get(`${repoPath}/branches/main`)
        .reply(200, { name: "main", commit: { sha: HEAD } }),
      mockDeploymentHistory(["staging", "production"]),
      mockCiState(HEAD),
      mockCreateDeployment(1010, { sha: HEAD, environment: "staging" }),
      mockDispatch("deploy-frontend.yml", 5010),
      mockIssueComment(7, replies),
    ];
    await harness.deliver(
      "issue_comment",
      prComment({ body: "/deploybot deploy frontend to staging", login: "hubot" }),
    );
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const [summary] = await harness.store.listThreads({});
    const thread = (await harness.store.getThread(summary!.id))!;
    expect(thread.events[0]).toMatchObject({
      type: "chat_request",
      data: { source: "pr_comment", requested_by: "hubot", text: "deploy frontend to staging" },
    });
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
    expect(replies[0]).toContain(`Started thread \`${thread.id}\``);
    // The next command on the same pull request finds that thread.
    expect(await harness.store.getRef(`pr_thread:${OWNER}/${REPO}#7`)).toBe(thread.id);
  });
});

describe("a GitHub team listed in github_approvers", () => {
  it("lets a member approve, after GitHub confirms the membership", async () => {
    const harness = await createHarness();
    const config = CONFIG_GITHUB_APPROVERS_YAML.replace("[Hubot, octocat]", "[acme/release-team]");
    const before = [
      ...mockMergeContext({ config }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    for (const scope of before) expect(scope.isDone()).toBe(true);

    const replies: string[] = [];
    const scopes = [
      mockPermission("monalisa", "write"),
      mockReaction(900_001),
      mockPullRequest(7),
      nock(API)
        .get("/orgs/acme/teams/release-team/memberships/monalisa")
        .reply(200, { state: "active", role: "member" }),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
      mockIssueComment(7, replies),
    ];
    await harness.deliver("issue_comment", prComment({ body: "/deploybot approve", login: "monalisa" }));
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("Approved.");
  });

  it("refuses someone GitHub says is not a member", async () => {
    const harness = await createHarness();
    const config = CONFIG_GITHUB_APPROVERS_YAML.replace("[Hubot, octocat]", "[acme/release-team]");
    const before = [
      ...mockMergeContext({ config }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    for (const scope of before) expect(scope.isDone()).toBe(true);

    const replies: string[] = [];
    const scopes = [
      mockPermission("monalisa", "write"),
      mockReaction(900_001),
      mockPullRequest(7),
      nock(API)
        .get("/orgs/acme/teams/release-team/memberships/monalisa")
        .reply(404, { message: "Not Found" }),
      mockIssueComment(7, replies),
    ];
    await harness.deliver("issue_comment", prComment({ body: "/deploybot approve", login: "monalisa" }));
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("Refused: only the approvers of production may approve this");
    const thread = (await harness.store.getThread(threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA)))!;
    expect(deriveState(thread.events).status).toBe("waiting_for_approval");
  });
});
