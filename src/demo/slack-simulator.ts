import { randomUUID } from "node:crypto";
import { signSlackRequest } from "../slack/verify.js";
import { HttpService, type ServiceReply, type ServiceRequest } from "./http-service.js";

/**
 * A simulated Slack for the demo: the Web API methods deploybot calls (`/api/<method>`, checked
 * against the bot token), the messages it posted kept per channel, and a page at `/` that shows
 * the channel with its buttons. Clicking one sends a signed `block_actions` request to
 * deploybot's `/slack/actions`, as Slack does.
 */

export interface SlackMessage {
  channel: string;
  ts: string;
  thread_ts: string | null;
  text: string;
  blocks: unknown;
  metadata: unknown;
}

export interface SlackSimulatorOptions {
  botToken: string;
  signingSecret: string;
  /** The Slack user who clicks in the simulated channel. */
  user: { id: string; name: string };
  /** Members of user groups (usergroups.users.list). */
  groupMembers: string[];
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Button {
  action_id: string;
  value: string;
  text: string;
}

function buttonsOf(blocks: unknown): Button[] {
  if (!Array.isArray(blocks)) return [];
  const found: Button[] = [];
  for (const block of blocks as { elements?: unknown[] }[]) {
    for (const element of block.elements ?? []) {
      const e = element as { type?: string; action_id?: string; value?: string; text?: { text?: string } };
      if (e.type === "button" && e.action_id && e.value) {
        found.push({ action_id: e.action_id, value: e.value, text: e.text?.text ?? e.action_id });
      }
    }
  }
  return found;
}

export class SlackSimulator {
  readonly service: HttpService;
  readonly messages: SlackMessage[] = [];
  private ts = Math.floor(Date.now() / 1000);
  private actionsUrl: string | null = null;
  readonly clickErrors: string[] = [];

  constructor(private readonly options: SlackSimulatorOptions) {
    this.service = new HttpService("Slack", (request) => this.route(request));
  }

  async start(): Promise<this> {
    await this.service.start();
    return this;
  }

  stop(): Promise<void> {
    return this.service.stop();
  }

  /** `SLACK_API_URL` for deploybot. */
  get apiUrl(): string {
    return `${this.service.url}/api/`;
  }

  /** The simulated channel page. */
  get webUrl(): string {
    return `${this.service.url}/`;
  }

  /** Where clicks go: deploybot's interactivity endpoint. */
  connect(actionsUrl: string): void {
    this.actionsUrl = actionsUrl;
  }

  private nextTs(): string {
    this.ts += 1;
    return `${this.ts}.000100`;
  }

  private fieldsOf(request: ServiceRequest): Record<string, unknown> {
    const type = String(request.headers["content-type"] ?? "");
    const fields: Record<string, unknown> = type.includes("application/json")
      ? (JSON.parse(request.body || "{}") as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(request.body));
    for (const key of ["blocks", "metadata"]) {
      if (typeof fields[key] === "string") {
        try {
          fields[key] = JSON.parse(fields[key]);
        } catch {
          // Slack would refuse it; keep the text
        }
      }
    }
    return fields;
  }

  private async route(request: ServiceRequest): Promise<ServiceReply> {
    if (request.method === "GET" && request.path === "/") return { status: 200, html: this.page() };
    // A message's web address (/archives/<channel>/p<ts>) opens the channel page.
    if (request.method === "GET" && request.path.startsWith("/archives/"))
      return { status: 200, html: this.page() };
    if (request.method === "POST" && request.path === "/click") return this.click(request);
    if (request.method !== "POST" || !request.path.startsWith("/api/")) {
      return { status: 404, json: { ok: false, error: "unknown_method" } };
    }
    const fields = this.fieldsOf(request);
    const auth = String(request.headers.authorization ?? "");
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : String(fields.token ?? "");
    if (token !== this.options.botToken) return { status: 200, json: { ok: false, error: "invalid_auth" } };
    return { status: 200, json: this.call(request.path.slice("/api/".length), fields) };
  }

  private call(method: string, fields: Record<string, unknown>): Record<string, unknown> {
    const channel = String(fields.channel ?? "");
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: this.webUrl,
          team: "Demo",
          user: "deploybot",
          team_id: "T0DEMO",
          user_id: "U0DEPLOYBOT",
          bot_id: "B0DEPLOYBOT",
        };
      case "chat.postMessage": {
        const ts = this.nextTs();
        const threadTs = typeof fields.thread_ts === "string" && fields.thread_ts ? fields.thread_ts : null;
        this.messages.push({
          channel,
          ts,
          thread_ts: threadTs,
          text: String(fields.text ?? ""),
          blocks: fields.blocks,
          metadata: fields.metadata ?? null,
        });
        return { ok: true, channel, ts, message: { ts, text: fields.text } };
      }
      case "chat.update": {
        const message = this.messages.find((m) => m.channel === channel && m.ts === String(fields.ts));
        if (!message) return { ok: false, error: "message_not_found" };
        if (fields.text !== undefined) message.text = String(fields.text);
        message.blocks = fields.blocks;
        return { ok: true, channel, ts: message.ts };
      }
      case "chat.postEphemeral":
        return { ok: true, message_ts: this.nextTs() };
      case "conversations.history": {
        const top = this.messages.filter((m) => m.channel === channel && m.thread_ts === null).reverse();
        return {
          ok: true,
          messages: top.slice(0, 100).map((m) => this.render(m)),
          has_more: false,
          response_metadata: { next_cursor: "" },
        };
      }
      case "conversations.replies": {
        const parent = this.messages.find((m) => m.channel === channel && m.ts === String(fields.ts));
        if (!parent) return { ok: false, error: "thread_not_found" };
        const replies = this.messages.filter((m) => m.channel === channel && m.thread_ts === parent.ts);
        return {
          ok: true,
          messages: [parent, ...replies].map((m) => this.render(m)),
          has_more: false,
          response_metadata: { next_cursor: "" },
        };
      }
      case "usergroups.users.list":
        return { ok: true, users: this.options.groupMembers };
      case "views.open":
        return { ok: true, view: { id: `V${randomUUID().slice(0, 8).toUpperCase()}` } };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private render(m: SlackMessage): Record<string, unknown> {
    return {
      type: "message",
      user: "U0DEPLOYBOT",
      bot_id: "B0DEPLOYBOT",
      ts: m.ts,
      text: m.text,
      ...(m.blocks === undefined ? {} : { blocks: m.blocks }),
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.metadata ? { metadata: m.metadata } : {}),
    };
  }

  /** A button click in the channel page: a signed `block_actions` request to deploybot. */
  private async click(request: ServiceRequest): Promise<ServiceReply> {
    const form = new URLSearchParams(request.body);
    const message = this.messages.find((m) => m.ts === form.get("ts"));
    const button = message
      ? buttonsOf(message.blocks).find((b) => b.action_id === form.get("action_id"))
      : undefined;
    if (!message || !button || !this.actionsUrl) return { status: 303, headers: { location: "/" } };
    const { user } = this.options;
    const payload = {
      type: "block_actions",
      user: { id: user.id, username: user.name, name: user.name, team_id: "T0DEMO" },
      api_app_id: "A0DEMO",
      token: "demo",
      container: {
        type: "message",
        message_ts: message.ts,
        channel_id: message.channel,
        is_ephemeral: false,
      },
      trigger_id: `demo-${randomUUID()}`,
      team: { id: "T0DEMO", domain: "demo" },
      channel: { id: message.channel, name: "deploys" },
      message: { ts: message.ts, text: message.text },
      actions: [
        {
          action_id: button.action_id,
          block_id: "decision",
          text: { type: "plain_text", text: button.text },
          value: button.value,
          type: "button",
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(this.actionsUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(timestamp),
          "x-slack-signature": signSlackRequest(this.options.signingSecret, timestamp, body),
        },
        body,
      });
      if (!response.ok) this.clickErrors.push(`HTTP ${response.status}`);
    } catch (error) {
      this.clickErrors.push(String(error));
    }
    return { status: 303, headers: { location: "/" } };
  }

  private page(): string {
    const top = this.messages.filter((m) => m.thread_ts === null);
    const items = top
      .map((m) => {
        const replies = this.messages.filter((r) => r.thread_ts === m.ts);
        const buttons = buttonsOf(m.blocks)
          .filter((b) => b.action_id === "deploybot.approve")
          .map(
            (b) =>
              `<form method="post" action="/click"><input type="hidden" name="ts" value="${escape(m.ts)}"><input type="hidden" name="action_id" value="${escape(b.action_id)}"><button type="submit">${escape(b.text)} as ${escape(this.options.user.name)}</button></form>`,
          )
          .join("");
        return `<li><p>${escape(m.text)}</p>${buttons}${replies.length ? `<ul>${replies.map((r) => `<li>${escape(r.text)}</li>`).join("")}</ul>` : ""}</li>`;
      })
      .join("");
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Simulated Slack</title></head><body><h1>Simulated Slack: #deploys</h1><p><a href="/">Refresh</a></p><ol>${items || "<li>No messages yet.</li>"}</ol></body></html>`;
  }
}
