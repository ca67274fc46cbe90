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
  CONFIG_GITHUB_APPROVERS_YAML,
  mockCreateDeployment,
  mockDispatch,
  mockIssueComment,
  mockMergeContext,
  mockPermission,
  mockPullRequest,
  mockReaction,
} from "../helpers/github-mocks.js";
import { createHarness, type Harness } from "../helpers/harness.js";

/** Commands in pull request comments: who may give them, what they do, and what deploybot answers. */

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);

/** Merge #7 and let its staging deploy succeed: the thread waits for the production approval. */
async function untilApproval(harness: Harness, config = CONFIG_GITHUB_APPROVERS_YAML): Promise<void> {
  const scopes = [
    ...mockMergeContext({ config }),
    mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
    mockDispatch("deploy-backend.yml", 5001),
  ];
  await harness.deliver("pull_request", mergedPullRequest());
  await harness.deliver("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
  for (const scope of scopes) expect(scope.isDone()).toBe(true);
  const thread = await harness.store.getThread(THREAD_ID);
  expect(deriveState(thread!.events).status).toBe("waiting_for_approval");
}

/** A command's way through GitHub: the commenter's permission, the reaction, the PR, the reply. */
function commandRoundTrip(login: string, permission: string): { replies: string[]; scopes: nock.Scope[] } {
  const replies: string[] = [];
  return {
    replies,
    scopes: [
      mockPermission(login, permission),
      mockReaction(900_001),
      mockPullRequest(7),
      mockIssueComment(7, replies),
    ],
  };
}

describe("a /deploybot command in a pull request comment", () => {
  it("is refused for a user without write permission, with a reaction and a reply that says why", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const reactions: string[] = [];
    const replies: string[] = [];
    const scopes = [
      mockPermission("hubot", "read"),
      mockReaction(900_001, reactions),
      mockIssueComment(7, replies),
    ];
    await harness.deliver("issue_comment", prComment({ body: "/deploybot approve", login: "hubot" }));
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(reactions).toEqual(["-1"]);
    expect(replies[0]).toContain("@hubot Refused: commanding deploybot needs write permission");
    expect(replies[0]).toContain("`read`");
    const thread = await harness.store.getThread(THREAD_ID);
    expect(deriveState(thread!.events).status).toBe("waiting_for_approval");
  });

  it("approves the waiting step for a listed GitHub approver, who is named on the thread", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const reactions: string[] = [];
    const replies: string[] = [];
    const scopes = [
      mockPermission("Hubot", "write"),
      mockReaction(900_001, reactions),
      mockPullRequest(7),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
      mockIssueComment(7, replies),
    ];
    await harness.deliver(
      "issue_comment",
      prComment({ body: "Ship it.\n/deploybot approve", login: "Hubot" }),
    );
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(reactions).toEqual(["eyes"]);
    expect(replies[0]).toContain("@Hubot Approved.");
    expect(replies[0]).toContain("waiting for deploy");
    const thread = await harness.store.getThread(THREAD_ID);
    expect(thread!.events.find((e) => e.type === "approval_granted")?.data).toMatchObject({
      by: "Hubot",
      channel: "github",
      slack_user: null,
    });
  });

  it("refuses the pull request's author approving its production deploy", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const { replies, scopes } = commandRoundTrip("OctoCat", "admin");
    await harness.deliver("issue_comment", prComment({ body: "/deploybot approve", login: "OctoCat" }));
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("Refused: you authored this pull request");
    const thread = await harness.store.getThread(THREAD_ID);
    expect(thread!.events.some((e) => e.type === "approval_granted")).toBe(false);
  });

  it("rejects with the reason, which the thread keeps", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const { replies, scopes } = commandRoundTrip("hubot", "maintain");
    await harness.deliver(
      "issue_comment",
      prComment({ body: "/deploybot reject not during the sale", login: "hubot" }),
    );
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("@hubot Rejected.");
    const thread = await harness.store.getThread(THREAD_ID);
    expect(thread!.events.find((e) => e.type === "approval_rejected")?.data).toMatchObject({
      by: "hubot",
      channel: "github",
      reason: "not during the sale",
    });
  });

  it("answers status with what the thread of the pull request's merge waits for", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const { replies, scopes } = commandRoundTrip("hubot", "write");
    await harness.deliver("issue_comment", prComment({ body: "/deploybot status", login: "hubot" }));
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain(`Thread \`${THREAD_ID}\` is **waiting for approval**`);
  });

  it("pauses and cancels the thread, naming who did it", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const replies: string[] = [];
    const scopes = [
      mockPermission("hubot", "write"),
      mockReaction(900_002),
      mockPullRequest(7),
      mockIssueComment(7, replies),
    ];
    await harness.deliver(
      "issue_comment",
      prComment({ body: "/deploybot cancel wrong commit", login: "hubot", commentId: 900_002 }),
    );
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies[0]).toContain("Cancelled.");
    const thread = await harness.store.getThread(THREAD_ID);
    const state = deriveState(thread!.events);
    expect(state.terminal?.data).toMatchObject({ by: "github:hubot", reason: "wrong commit" });
  });

  it("is carried out once and answered once when GitHub delivers it twice", async () => {
    const harness = await createHarness();
    await untilApproval(harness);
    const { replies, scopes } = commandRoundTrip("hubot", "write");
    const payload = prComment({ body: "/deploybot status", login: "hubot" });
    await harness.deliver("issue_comment", payload, "comment-delivery-1");
    await harness.deliver("issue_comment", payload, "comment-delivery-1");
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(replies).toHaveLength(1);
  });

  it("ignores comments by bots and comments without the /deploybot prefix", async () => {
    const harness = await createHarness();
    await harness.deliver(
      "issue_comment",
      prComment({ body: "/deploybot approve", login: "deploybot[bot]", userType: "Bot" }),
    );
    await harness.deliver("issue_comment", prComment({ body: "please /deploybot approve", login: "hubot" }));
    expect(await harness.store.inboxCounts()).toEqual({ queued: 0, done: 0, dead: 0 });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
