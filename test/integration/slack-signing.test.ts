import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { httpRequest } from "../helpers/http.js";
import {
  clickBody,
  slackEventBody,
  slashCommandBody,
  startAppServer,
  type AppServer,
} from "../helpers/app-server.js";

/**
 * Every Slack request is verified before it is parsed: through the real server, a request
 * that fails verification or is not what the endpoint takes is answered with an error and stores nothing.
 */

let app: AppServer;
beforeEach(async () => {
  app = await startAppServer();
});
afterEach(async () => app?.stop());

const NOTHING = { queued: 0, done: 0, dead: 0 };

const mention = () =>
  slackEventBody({
    type: "app_mention",
    user: "U01ASKER",
    text: "<@U0BOT> deploy the frontend to staging",
    channel: "C01DEPLOYS",
    ts: "1700000100.000200",
  });

describe("Slack request verification through the server", () => {
  it("refuses a forged signature with 401 and stores nothing", async () => {
    const response = await app.slack("/slack/events", mention(), { secret: "not-the-signing-secret" });

    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toContain("signature does not match");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses a correctly signed request older than five minutes as a replay", async () => {
    const timestamp = Math.floor(app.now.value.getTime() / 1000) - 301;

    const response = await app.slack(
      "/slack/actions",
      clickBody("deploybot.approve", "ap_1", "U01APPROVER"),
      {
        timestamp,
      },
    );

    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toContain("5-minute window");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses a request without Slack's signature headers", async () => {
    const response = await httpRequest(`${app.base}/slack/commands`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: slashCommandBody("deploy the frontend to staging"),
    });

    expect(response.status).toBe(401);
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses a signed request with the wrong content type with 415", async () => {
    const response = await app.slack("/slack/commands", slashCommandBody("deploy the frontend to staging"), {
      contentType: "application/json",
    });

    expect(response.status).toBe(415);
    expect(JSON.parse(response.body).error).toContain("application/x-www-form-urlencoded");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("answers 405 to a request that is not a POST", async () => {
    const response = await httpRequest(`${app.base}/slack/actions`);

    expect(response.status).toBe(405);
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses a click on a button deploybot does not know with 400", async () => {
    const response = await app.slack(
      "/slack/actions",
      clickBody("deploybot.launch_rockets", "ap_1", "U01APPROVER"),
    );

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toContain("deploybot.launch_rockets");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses an interaction whose payload is not JSON with 400", async () => {
    const response = await app.slack("/slack/actions", "payload=%7Bnot-json");

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toContain("not valid JSON");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses an event whose body is not JSON with 400", async () => {
    const response = await app.slack("/slack/events", '{"type":"event_callback",');

    expect(response.status).toBe(400);
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("refuses a slash command without the fields Slack always sends with 400", async () => {
    const response = await app.slack("/slack/commands", "command=%2Fdeploybot&text=status");

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toContain("slash command is malformed");
    expect(await app.store.inboxCounts()).toEqual(NOTHING);
  });

  it("stores a correctly signed request, so the refusals above are about the request", async () => {
    const response = await app.slack("/slack/events", mention());

    expect(response.status).toBe(200);
    expect(await app.store.inboxCounts()).toEqual({ queued: 1, done: 0, dead: 0 });
  });
});
