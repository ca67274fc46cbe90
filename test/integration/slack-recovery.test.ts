import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import { mockCreateDeployment, mockDispatch, mockMergeContext } from "../helpers/github-mocks.js";
import { mockSlack, SLACK_API, startAppServer, type AppServer } from "../helpers/app-server.js";

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
let app: AppServer;
afterEach(async () => app?.stop());

describe("a Slack post whose answer was lost", () => {
  it("is found by its tag on the retry and not posted twice", async () => {
    app = await startAppServer();
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      mockSlack(app.slackCalls, { "chat.postMessage": 3 }),
      // The approval card reaches Slack, but its answer never comes back (a crash looks the same).
      nock(SLACK_API)
        .post("/api/chat.postMessage")
        .replyWithError({ code: "ECONNRESET", message: "socket hang up" }),
    ];
    await app.webhook("pull_request", mergedPullRequest());
    await app.runWorker();
    await app.webhook("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    await app.runWorker();
    const before = (await app.store.getThread(THREAD_ID))!.events;
    const request = before.find((e) => e.type === "approval_requested")!;
    const approvalId = request.type === "approval_requested" ? request.data.approval_id : "";
    expect(before.filter((e) => e.type === "slack_posting").at(-1)?.data).toEqual({
      key: `approval:${approvalId}`,
    });
    expect(before.some((e) => e.type === "slack_posted" && e.data.key === `approval:${approvalId}`)).toBe(
      false,
    );

    const history = nock(SLACK_API)
      .post("/api/conversations.history", (body: Record<string, string>) => body.channel === "C01DEPLOYS")
      .reply(200, {
        ok: true,
        messages: [
          { ts: "1700000998.000100", text: "other" },
          {
            ts: "1700000999.000100",
            text: "Approve deploy of backend to production?",
            metadata: {
              event_type: "deploybot_notification",
              event_payload: { key: `${THREAD_ID}/approval:${approvalId}` },
            },
          },
        ],
      });
    await app.advance(60_000);

    for (const scope of [...scopes, history]) expect(scope.isDone()).toBe(true);
    const events = (await app.store.getThread(THREAD_ID))!.events;
    expect(
      events.find((e) => e.type === "slack_posted" && e.data.key === `approval:${approvalId}`)?.data,
    ).toMatchObject({
      ts: "1700000999.000100",
    });
    expect(app.slackCalls.filter((c) => c.method === "chat.postMessage")).toHaveLength(3);
  });

  it("tags every message deploybot posts with its thread and notification key", async () => {
    app = await startAppServer();
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      mockSlack(app.slackCalls, { "chat.postMessage": 2 }),
    ];

    await app.webhook("pull_request", mergedPullRequest());
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(app.slackCalls.map((c) => JSON.parse(String(c.body.metadata)))).toEqual([
      { event_type: "deploybot_notification", event_payload: { key: `${THREAD_ID}/root` } },
      {
        event_type: "deploybot_notification",
        event_payload: { key: expect.stringMatching(new RegExp(`^${THREAD_ID}/progress:\\d+$`)) },
      },
    ]);
  });
});
