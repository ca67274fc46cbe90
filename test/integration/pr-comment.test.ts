import nock from "nock";
import { describe, expect, it } from "vitest";
import { DeploybotOctokit } from "../../src/github/octokit.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import {
  API,
  CONFIG_GITHUB_APPROVERS_YAML,
  CONFIG_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockMergeContext,
} from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

/** One comment per thread on its pull request: created once, edited in place, found again after a doubt. */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const repoPath = `/repos/${OWNER}/${REPO}`;
const MARKER = `<!-- deploybot:thread=${THREAD_ID} -->`;

describe("the deploy's comment on its pull request", () => {
  it("is created once when the deploy starts and edited in place as it moves", async () => {
    const harness = await createHarness({ prComments: true });
    const bodies: string[] = [];
    const scopes = [
      ...mockMergeContext({ config: CONFIG_GITHUB_APPROVERS_YAML }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      nock(API)
        .post(`${repoPath}/issues/7/comments`, (body: { body: string }) => {
          bodies.push(body.body);
          return true;
        })
        .reply(201, { id: 77, body: "" }),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    // Written once the thread waits for its deploy, not at every step on the way.
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.startsWith(MARKER)).toBe(true);
    expect(bodies[0]).toContain("🚀 deploying");

    // Staging succeeds; production waits for an approval: one more edit of the same comment.
    const edits = nock(API)
      .patch(`${repoPath}/issues/comments/77`, (body: { body: string }) => {
        bodies.push(body.body);
        return true;
      })
      .reply(200, { id: 77 });
    await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    expect(edits.isDone()).toBe(true);
    expect(bodies.at(-1)).toContain("✅ deployed");
    expect(bodies.at(-1)).toContain(
      "**Waiting for** an approval from one of `U01APPROVER`, `S01RELEASETEAM` (Slack), `Hubot`, `octocat` (GitHub: `/deploybot approve`)",
    );
  });

  it("is looked for by its marker after a lost answer, and edited instead of posted twice", async () => {
    const harness = await createHarness({ prComments: true, Octokit: DeploybotOctokit });
    let posts = 0;
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      nock(API)
        .persist()
        .post(`${repoPath}/issues/7/comments`, () => {
          posts += 1;
          return true;
        })
        .reply(502, { message: "Bad Gateway" }),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(posts).toBe(1);
    nock.cleanAll();

    const found = nock(API)
      .get(`${repoPath}/issues/7/comments`)
      .query({ per_page: "100", page: "1" })
      .reply(200, [
        { id: 12, body: "LGTM" },
        { id: 77, body: `${MARKER}\n### deploybot` },
      ])
      .patch(`${repoPath}/issues/comments/77`)
      .reply(200, { id: 77 });
    harness.now.value = new Date(harness.now.value.getTime() + 10_000);
    await harness.runWorker();
    expect(found.isDone()).toBe(true);
    expect(posts).toBe(1);
  });

  it("stops commenting, once, when the app may not write to pull requests", async () => {
    const harness = await createHarness({ prComments: true });
    const scopes = [
      ...mockMergeContext({ config: CONFIG_YAML }),
      nock(API)
        .post(`${repoPath}/issues/7/comments`)
        .reply(403, { message: "Resource not accessible by integration" }),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    await harness.deliver("pull_request", mergedPullRequest());
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    expect(thread.events.filter((e) => e.type === "pr_comment_synced")).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ error: expect.stringContaining("HTTP 403") }),
      }),
    ]);
    expect(harness.log.lines.some((l) => l.includes("could not comment on #7"))).toBe(true);
  });
});
