import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseEventEnvelope,
  parseInteraction,
  parseSlashCommand,
  SlackPayloadError,
} from "../../src/slack/payloads.js";

// Slack's documented example payloads; sources in test/fixtures/slack/README.md.
function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/slack/${name}`, import.meta.url), "utf8");
}
function jsonFixture(name: string): Record<string, unknown> {
  return JSON.parse(fixture(name)) as Record<string, unknown>;
}

/** An interactivity request body as Slack sends it: one form field, `payload`, holding JSON. */
function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function expectPayloadError(parse: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    parse();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SlackPayloadError);
  expect((caught as SlackPayloadError).status).toBe(400);
  expect((caught as SlackPayloadError).message).toMatch(message);
}

describe("parsing an interaction", () => {
  it("reads Slack's documented block_actions example", () => {
    expect(parseInteraction(interactionBody(jsonFixture("block-actions.json")))).toEqual({
      type: "block_actions",
      user: "UA8RXUSPL",
      actionId: "WaXA",
      value: "click_me_123",
      triggerId: "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
      responseUrl: "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209",
      channel: "CBR2V3XEX",
      messageTs: "1548261231.000200",
    });
  });

  it("reads an approve click on deploybot's card, taking the first action", () => {
    const payload = {
      ...jsonFixture("block-actions.json"),
      actions: [
        {
          type: "button",
          action_id: "deploybot.approve",
          block_id: "b",
          value: "apr_01JD8Z6W3K",
          action_ts: "1",
        },
        { type: "button", action_id: "deploybot.reject", block_id: "b", value: "apr_other", action_ts: "1" },
      ],
    };
    expect(parseInteraction(interactionBody(payload))).toMatchObject({
      type: "block_actions",
      actionId: "deploybot.approve",
      value: "apr_01JD8Z6W3K",
    });
  });

  it("falls back to the container for the channel and message when they are absent", () => {
    const { channel: _channel, message: _message, ...payload } = jsonFixture("block-actions.json");
    expect(parseInteraction(interactionBody(payload))).toMatchObject({
      channel: "CBR2V3XEX",
      messageTs: "1548261231.000200",
    });
  });

  it("reads Slack's documented view_submission example", () => {
    expect(parseInteraction(interactionBody(jsonFixture("view-submission.json")))).toEqual({
      type: "view_submission",
      user: "U1234567",
      callbackId: "modal-with-inputs",
      privateMetadata: "shhh-its-secret",
      values: {
        multiline: { mlvalue: { value: "This is my example inputted value" } },
        target_channel: { target_select: { value: null } },
      },
    });
  });

  it("reads the reject modal's submission: callback id, approval id and reason", () => {
    const payload = jsonFixture("view-submission.json");
    const view = {
      ...(payload.view as Record<string, unknown>),
      callback_id: "deploybot.reject",
      private_metadata: "apr_01JD8Z6W3K",
      state: { values: { reason: { reason: { type: "plain_text_input", value: "CI is red on main" } } } },
    };
    expect(parseInteraction(interactionBody({ ...payload, view }))).toEqual({
      type: "view_submission",
      user: "U1234567",
      callbackId: "deploybot.reject",
      privateMetadata: "apr_01JD8Z6W3K",
      values: { reason: { reason: { value: "CI is red on main" } } },
    });
  });

  it("passes other interaction types through by kind", () => {
    expect(parseInteraction(interactionBody(jsonFixture("view-closed.json")))).toEqual({
      type: "other",
      kind: "view_closed",
    });
  });

  it.each([
    ["an empty body", "", /no payload field/],
    ["a body without a payload field", "foo=bar", /no payload field/],
    ["a payload that is not JSON", "payload=%7Bnot-json", /not valid JSON/],
    ["a payload that is a JSON array", interactionBody([1, 2]), /malformed/],
    [
      "a block_actions payload without actions",
      interactionBody({ type: "block_actions", user: { id: "U1" }, trigger_id: "t", actions: [] }),
      /actions/,
    ],
    [
      "a block_actions payload without a user",
      interactionBody({ type: "block_actions", trigger_id: "t", actions: [{ action_id: "a" }] }),
      /user/,
    ],
    [
      "a view_submission without a view",
      interactionBody({ type: "view_submission", user: { id: "U1" } }),
      /view/,
    ],
  ])("refuses %s with a 400", (_name, body, message) => {
    expectPayloadError(() => parseInteraction(body), message);
  });
});

describe("parsing a slash command", () => {
  it("reads the body of Slack's signing test vector", () => {
    expect(parseSlashCommand(fixture("slash-command.txt"))).toEqual({
      command: "/webhook-collect",
      text: "",
      userId: "U2CERLKJA",
      channelId: "G8PSS9T3V",
      responseUrl: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
      triggerId: "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
      teamId: "T1DC2JH3J",
    });
  });

  it("reads the command's text", () => {
    const body = fixture("slash-command.txt")
      .replace("command=%2Fwebhook-collect", "command=%2Fdeploybot")
      .replace("text=&", "text=status+backend&");
    expect(parseSlashCommand(body)).toMatchObject({ command: "/deploybot", text: "status backend" });
  });

  it.each(["user_id", "command", "response_url", "trigger_id", "team_id", "channel_id"])(
    "refuses a command without %s with a 400",
    (field) => {
      const form = new URLSearchParams(fixture("slash-command.txt"));
      form.delete(field);
      expectPayloadError(() => parseSlashCommand(form.toString()), new RegExp(field));
    },
  );

  it("refuses a response_url that is not a URL", () => {
    const form = new URLSearchParams(fixture("slash-command.txt"));
    form.set("response_url", "javascript:alert(1)");
    expectPayloadError(() => parseSlashCommand(form.toString()), /response_url/);
  });
});

describe("parsing an Events API request", () => {
  it("reads Slack's url_verification example", () => {
    expect(parseEventEnvelope(fixture("url-verification.json"))).toEqual({
      type: "url_verification",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
  });

  it("reads Slack's app_mention example", () => {
    expect(parseEventEnvelope(fixture("app-mention.json"))).toEqual({
      type: "event_callback",
      eventId: "Ev123ABC456",
      teamId: "T123ABC456",
      event: {
        type: "app_mention",
        user: "U061F7AUR",
        text: "<@U0LAN0Z89> is it everything a river should be?",
        channel: "C123ABC456",
        ts: "1515449522.000016",
      },
    });
  });

  it("reads Slack's message.channels example", () => {
    expect(parseEventEnvelope(fixture("message-channels.json"))).toEqual({
      type: "event_callback",
      eventId: "Ev123ABC456",
      teamId: "T123ABC456",
      event: {
        type: "message",
        user: "U123ABC456",
        text: "Live long and prospect.",
        channel: "C123ABC456",
        ts: "1355517523.000005",
      },
    });
  });

  it("reads a reply in a thread, and a bot's message, with their thread and bot ids", () => {
    const envelope = jsonFixture("message-channels.json");
    const event = envelope.event as Record<string, unknown>;
    const reply = { ...envelope, event: { ...event, thread_ts: "1355517000.000001" } };
    expect(parseEventEnvelope(JSON.stringify(reply))).toMatchObject({
      event: { type: "message", threadTs: "1355517000.000001", text: "Live long and prospect." },
    });
    const bot = {
      ...envelope,
      event: { ...event, user: undefined, bot_id: "B0DEPLOYBOT", subtype: "bot_message" },
    };
    expect(parseEventEnvelope(JSON.stringify(bot))).toMatchObject({
      event: { type: "message", botId: "B0DEPLOYBOT", subtype: "bot_message" },
    });
  });

  it("passes Slack's message_replied example through as another kind, not as a message", () => {
    expect(parseEventEnvelope(fixture("message-replied.json"))).toEqual({
      type: "event_callback",
      eventId: "Ev123ABC456",
      teamId: "T123ABC456",
      event: { type: "other", kind: "message.message_replied" },
    });
  });

  it("passes other event types through by kind", () => {
    const envelope = jsonFixture("app-mention.json");
    const reaction = { ...envelope, event: { type: "reaction_added", user: "U1", reaction: "tada" } };
    expect(parseEventEnvelope(JSON.stringify(reaction))).toMatchObject({
      event: { type: "other", kind: "reaction_added" },
    });
  });

  it.each([
    ["a body that is not JSON", "not json", /not valid JSON/],
    ["an object without a type", "{}", /malformed/],
    ["a url_verification without a challenge", JSON.stringify({ type: "url_verification" }), /challenge/],
    ["an unknown envelope type", JSON.stringify({ type: "app_rate_limited" }), /not supported/],
    [
      "an event_callback without an event id",
      JSON.stringify({ type: "event_callback", team_id: "T1", event: { type: "app_mention" } }),
      /event_id/,
    ],
    [
      "an app_mention without a channel",
      JSON.stringify({
        type: "event_callback",
        event_id: "Ev1",
        team_id: "T1",
        event: { type: "app_mention", text: "hi", ts: "1.2" },
      }),
      /channel/,
    ],
  ])("refuses %s with a 400", (_name, body, message) => {
    expectPayloadError(() => parseEventEnvelope(body), message);
  });
});
