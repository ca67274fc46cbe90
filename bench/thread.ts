import nock from "nock";
import { EventData } from "../src/thread/events.js";
import { MERGE_SHA } from "../test/helpers/fixtures.js";
import { mockCreateDeployment, mockDispatch } from "../test/helpers/github-mocks.js";
import { clickBody, mockSlack, startAppServer, untilApprovalCard } from "../test/helpers/app-server.js";
import { round } from "./stats.js";

/**
 * Event parses per appended event on one Slack approve click: the test harness's server (GitHub
 * and Slack behind nock), a merge taken to the production approval card, then the click and the
 * worker run until idle. Every parse of an event's data goes through one of the schemas of
 * `EventData`, whose `parse` is wrapped here to count: parses of stored events (what re-reading a
 * thread costs) apart from the one validation of each new event as it is written.
 */

export async function benchThreadParses(): Promise<{
  event_parses_per_append: number;
  parses: number;
  validations: number;
  appended: number;
}> {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  const app = await startAppServer();
  let parses = 0;
  let validations = 0;
  try {
    const { threadId, approvalId } = await untilApprovalCard(app);
    for (const schema of Object.values(EventData) as { parse: (data: unknown) => unknown }[]) {
      const parse = schema.parse.bind(schema);
      schema.parse = (data: unknown) => {
        // A new event's data is validated once as it is written; reading a stored event parses it.
        if (new Error().stack?.includes("validateNewEvent")) validations += 1;
        else parses += 1;
        return parse(data);
      };
    }
    const before = (await app.store.getThread(threadId))!.events.length;
    const scopes = [
      mockSlack(app.slackCalls, { "usergroups.users.list": 1, "chat.update": 1, "chat.postMessage": 1 }),
      mockCreateDeployment(1002, { sha: MERGE_SHA, environment: "production" }),
      mockDispatch("deploy-backend.yml", 5002),
    ];
    parses = 0;
    validations = 0;
    const click = await app.slack(
      "/slack/actions",
      clickBody("deploybot.approve", approvalId, "U01APPROVER"),
    );
    if (click.status !== 200) throw new Error(`the click got HTTP ${click.status}`);
    await app.runWorker();
    const counted = parses;
    const appended = (await app.store.getThread(threadId))!.events.length - before;
    const pending = scopes.flatMap((scope) => scope.pendingMocks());
    if (pending.length) throw new Error(`calls not made on the approve path: ${pending.join(", ")}`);
    return {
      event_parses_per_append: round(counted / appended, 1),
      parses: counted,
      validations,
      appended,
    };
  } finally {
    await app.stop();
    nock.cleanAll();
    nock.enableNetConnect();
  }
}
