import { afterEach, describe, expect, it } from "vitest";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { MERGE_SHA, OWNER, REPO } from "../helpers/fixtures.js";
import { CONFIG_YAML, mockCreateDeployment, mockDispatch } from "../helpers/github-mocks.js";
import {
  clickBody,
  mockSlack,
  startAppServer,
  untilApprovalCard as untilApprovalCardOf,
  type AppServer,
} from "../helpers/app-server.js";

const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
let app: AppServer;
afterEach(async () => app?.stop());

/** Merge, deploy to staging, succeed: the thread stops at the production approval card. */
async function untilApprovalCard(config = CONFIG_YAML): Promise<{ approvalId: string }> {
  app = await startAppServer();
  return untilApprovalCardOf(app, config);
}

describe("an approval in Slack", () => {
  it("posts the thread's progress and then an approval card with the two buttons of the contract", async () => {
    const { approvalId } = await untilApprovalCard();

    const posts = app.slackCalls.map((c) => String(c.body.text));
    expect(posts[0]).toContain("deploybot is on");
    expect(posts[1]).toContain("Deploying backend");
    expect(posts[2]).toContain("backend `0123456` to staging: success");
    expect(app.slackCalls[1]?.body.thread_ts).toBe(app.slackCalls[2]?.body.thread_ts);
    const card = app.slackCalls[3]!;
    expect(card.body.channel).toBe("C01DEPLOYS");
    const buttons = (
      card.body.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]
    )
      .filter((b) => b.type === "actions")
      .flatMap((b) => b.elements ?? []);
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ["deploybot.approve", approvalId],
      ["deploybot.reject", approvalId],
    ]);
    expect(JSON.stringify(card.body.blocks)).toContain("production");
  });

  it("runs exactly the approved step once, however many times it is clicked", async () => {
    const { approvalId } = await untilApprovalCard();
    const calls = app.slackCalls.length;
    const slack = mockSlack(app.slackCalls, {
      "usergroups.users.list": 1,
      "chat.update": 1,
      "chat.postMessage": 1,
      "chat.postEphemeral": 1,
    });
    const github = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];

    expect(
      (await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"))).status,
    ).toBe(200);
    expect(
      (await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01APPROVER"))).status,
    ).toBe(200);
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    const thread = (await app.store.getThread(THREAD_ID))!;
    expect(thread.events.filter((e) => e.type === "approval_granted")).toEqual([
      expect.objectContaining({
        data: { approval_id: approvalId, by: "U01APPROVER", channel: "slack", slack_user: "U01APPROVER" },
      }),
    ]);
    expect(thread.events.filter((e) => e.type === "deployment_created")).toHaveLength(2);
    const update = app.slackCalls.slice(calls).find((c) => c.method === "chat.update")!;
    expect(JSON.stringify(update.body.blocks)).not.toContain("deploybot.approve");
    expect(JSON.stringify(update.body.blocks)).toContain("U01APPROVER");
    const ephemeral = app.slackCalls.slice(calls).find((c) => c.method === "chat.postEphemeral")!;
    expect(String(ephemeral.body.text)).toContain("no longer pending");
  });

  it("refuses an outsider's click with an ephemeral explanation and changes nothing", async () => {
    const { approvalId } = await untilApprovalCard();
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.postEphemeral": 1 });
    const before = (await app.store.getThread(THREAD_ID))!.events.length;

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U09OUTSIDER"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect((await app.store.getThread(THREAD_ID))!.events).toHaveLength(before);
    const ephemeral = app.slackCalls.at(-1)!;
    expect(ephemeral.body.user).toBe("U09OUTSIDER");
    expect(String(ephemeral.body.text)).toContain("only the approvers of production");
  });

  it("refuses the PR's author approving their own production deploy", async () => {
    // octocat (the PR's author) is U01OCTOCAT; list them as an approver to prove the rule wins.
    const { approvalId } = await untilApprovalCard(
      CONFIG_YAML.replace("[U01APPROVER, S01RELEASETEAM]", "[U01APPROVER, U01OCTOCAT, S01RELEASETEAM]"),
    );
    const slack = mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.postEphemeral": 1 });
    const thread = (await app.store.getThread(THREAD_ID))!;

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U01OCTOCAT"));
    await app.runWorker();

    expect(slack.isDone()).toBe(true);
    expect((await app.store.getThread(THREAD_ID))!.events).toHaveLength(thread.events.length);
    expect(String(app.slackCalls.at(-1)!.body.text)).toContain("you authored this pull request");
  });

  it("lets a member of an approver user group approve", async () => {
    const { approvalId } = await untilApprovalCard();
    const slack = mockSlack(app.slackCalls, {
      "usergroups.users.list": 1,
      "chat.update": 1,
      "chat.postMessage": 1,
    });
    const github = [
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];

    await app.slack("/slack/actions", clickBody("deploybot.approve", approvalId, "U02RELEASER"));
    await app.runWorker();

    for (const scope of [...github, slack]) expect(scope.isDone()).toBe(true);
    expect(app.slackCalls.find((c) => c.method === "usergroups.users.list")?.body.usergroup).toBe(
      "S01RELEASETEAM",
    );
    expect((await app.store.getThreadSummary(THREAD_ID))?.status).toBe("waiting_for_deploy");
  });
});
