import { z } from "zod";
import { clip } from "../thread/text.js";

/**
 * What Slack sends, parsed at the boundary. Call these only after `verifySlackRequest` accepted the
 * raw body. Schemas are loose objects: Slack adds fields often, and we keep only the ones we read.
 * Malformed input throws `SlackPayloadError` (HTTP 400).
 */

export class SlackPayloadError extends Error {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = "SlackPayloadError";
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("; ");
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SlackPayloadError(`${what} is malformed: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SlackPayloadError(`${what} is not valid JSON`);
  }
}

const id = z.string().min(1);
const responseUrl = z.url({ protocol: /^https?$/ });

// ---------------------------------------------------------------------------------------------
// Interactivity (POST /slack/actions)

const InteractionEnvelopeSchema = z.looseObject({ type: z.string().min(1) });

export const BlockActionsPayloadSchema = z.looseObject({
  type: z.literal("block_actions"),
  user: z.looseObject({ id }),
  trigger_id: id,
  response_url: responseUrl.optional(),
  channel: z.looseObject({ id }).nullish(),
  message: z.looseObject({ ts: id }).nullish(),
  container: z
    .looseObject({ message_ts: z.string().optional(), channel_id: z.string().optional() })
    .nullish(),
  actions: z
    .array(z.looseObject({ action_id: id, type: z.string().optional(), value: z.string().optional() }))
    .min(1),
});
export type BlockActionsPayload = z.output<typeof BlockActionsPayloadSchema>;

export const ViewSubmissionPayloadSchema = z.looseObject({
  type: z.literal("view_submission"),
  user: z.looseObject({ id }),
  view: z.looseObject({
    callback_id: z.string(),
    private_metadata: z.string().default(""),
    state: z.looseObject({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish() }))),
    }),
  }),
});
export type ViewSubmissionPayload = z.output<typeof ViewSubmissionPayloadSchema>;

export type SlackInteraction =
  | {
      type: "block_actions";
      user: string;
      actionId: string;
      value: string;
      triggerId: string;
      responseUrl: string | null;
      channel: string | null;
      messageTs: string | null;
    }
  | {
      type: "view_submission";
      user: string;
      callbackId: string;
      privateMetadata: string;
      values: Record<string, Record<string, { value?: string | null }>>;
    }
  | { type: "other"; kind: string };

/** Parses an interactivity request: a form body whose one `payload` field holds JSON. */
export function parseInteraction(rawBody: string): SlackInteraction {
  const payloadField = new URLSearchParams(rawBody).get("payload");
  if (payloadField === null || payloadField === "") {
    throw new SlackPayloadError("Slack interaction has no payload field");
  }
  const json = parseJson(payloadField, "Slack interaction payload");
  const { type } = parseWith(InteractionEnvelopeSchema, json, "Slack interaction payload");

  if (type === "block_actions") {
    const payload = parseWith(BlockActionsPayloadSchema, json, "Slack block_actions payload");
    const [action] = payload.actions;
    if (!action) throw new SlackPayloadError("Slack block_actions payload has no actions");
    return {
      type: "block_actions",
      user: payload.user.id,
      actionId: action.action_id,
      value: action.value ?? "",
      triggerId: payload.trigger_id,
      responseUrl: payload.response_url ?? null,
      channel: payload.channel?.id ?? payload.container?.channel_id ?? null,
      messageTs: payload.message?.ts ?? payload.container?.message_ts ?? null,
    };
  }

  if (type === "view_submission") {
    const payload = parseWith(ViewSubmissionPayloadSchema, json, "Slack view_submission payload");
    const values: Record<string, Record<string, { value?: string | null }>> = {};
    for (const [blockId, actions] of Object.entries(payload.view.state.values)) {
      const block: Record<string, { value?: string | null }> = {};
      for (const [actionId, state] of Object.entries(actions))
        block[actionId] = { value: state.value ?? null };
      values[blockId] = block;
    }
    return {
      type: "view_submission",
      user: payload.user.id,
      callbackId: payload.view.callback_id,
      privateMetadata: payload.view.private_metadata,
      values,
    };
  }

  return { type: "other", kind: type };
}

// ---------------------------------------------------------------------------------------------
// Slash commands (POST /slack/commands)

export const SlashCommandSchema = z.looseObject({
  command: z.string().regex(/^\/\S+$/, "expected a command such as /deploybot"),
  text: z.string().default(""),
  user_id: id,
  channel_id: id,
  response_url: responseUrl,
  trigger_id: id,
  team_id: id,
});

export interface SlashCommand {
  command: string;
  text: string;
  userId: string;
  channelId: string;
  responseUrl: string;
  triggerId: string;
  teamId: string;
}

/** Parses a slash command: a plain form body (`command`, `text`, `user_id`, …). */
export function parseSlashCommand(rawBody: string): SlashCommand {
  const fields = Object.fromEntries(new URLSearchParams(rawBody));
  const form = parseWith(SlashCommandSchema, fields, "Slack slash command");
  return {
    command: form.command,
    text: form.text.trim(),
    userId: form.user_id,
    channelId: form.channel_id,
    responseUrl: form.response_url,
    triggerId: form.trigger_id,
    teamId: form.team_id,
  };
}

// ---------------------------------------------------------------------------------------------
// Events API (POST /slack/events)

const EventsEnvelopeSchema = z.looseObject({ type: z.string().min(1) });

const UrlVerificationSchema = z.looseObject({ type: z.literal("url_verification"), challenge: id });

const EventCallbackSchema = z.looseObject({
  type: z.literal("event_callback"),
  event_id: id,
  team_id: id,
  event: z.looseObject({ type: id }),
});

export const MessageEventSchema = z.looseObject({
  type: z.enum(["app_mention", "message"]),
  user: z.string().optional(),
  text: z.string(),
  channel: id,
  ts: id,
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
});

/**
 * Message subtypes that describe a change to another message rather than someone saying something;
 * they carry no top-level text (message_changed, message_deleted, and message_replied as documented).
 */
const NOT_A_NEW_MESSAGE = new Set(["message_changed", "message_deleted", "message_replied"]);

export interface SlackMessageEvent {
  type: "app_mention" | "message";
  user?: string;
  text: string;
  channel: string;
  ts: string;
  threadTs?: string;
  botId?: string;
  subtype?: string;
}

export type SlackEventEnvelope =
  | { type: "url_verification"; challenge: string }
  | {
      type: "event_callback";
      eventId: string;
      teamId: string;
      event: SlackMessageEvent | { type: "other"; kind: string };
    };

/** Parses an Events API request body (JSON): the URL check, or an event wrapped in its callback. */
export function parseEventEnvelope(rawBody: string): SlackEventEnvelope {
  const json = parseJson(rawBody, "Slack event");
  const { type } = parseWith(EventsEnvelopeSchema, json, "Slack event");

  if (type === "url_verification") {
    return {
      type: "url_verification",
      challenge: parseWith(UrlVerificationSchema, json, "Slack url_verification").challenge,
    };
  }
  if (type !== "event_callback") {
    throw new SlackPayloadError(
      `Slack event envelope type ${JSON.stringify(clip(type, 50))} is not supported`,
    );
  }

  const envelope = parseWith(EventCallbackSchema, json, "Slack event_callback");
  const raw = envelope.event;
  const base = { type: "event_callback" as const, eventId: envelope.event_id, teamId: envelope.team_id };

  if (raw.type !== "app_mention" && raw.type !== "message") {
    return { ...base, event: { type: "other", kind: raw.type } };
  }
  const subtype = typeof raw.subtype === "string" ? raw.subtype : undefined;
  if (raw.type === "message" && (raw.hidden === true || (subtype && NOT_A_NEW_MESSAGE.has(subtype)))) {
    return { ...base, event: { type: "other", kind: `message.${subtype ?? "hidden"}` } };
  }

  const event = parseWith(MessageEventSchema, raw, `Slack ${raw.type} event`);
  const parsed: SlackMessageEvent = {
    type: event.type,
    text: event.text,
    channel: event.channel,
    ts: event.ts,
  };
  if (event.user !== undefined) parsed.user = event.user;
  if (event.thread_ts !== undefined) parsed.threadTs = event.thread_ts;
  if (event.bot_id !== undefined) parsed.botId = event.bot_id;
  if (event.subtype !== undefined) parsed.subtype = event.subtype;
  return { ...base, event: parsed };
}
