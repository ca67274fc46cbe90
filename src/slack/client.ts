import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type KnownBlock,
  type View,
} from "@slack/web-api";

/**
 * The Slack calls deploybot makes, behind a small port so the rest of the code (and its tests)
 * never sees @slack/web-api. Errors come out as `SlackCallError`: a compact message, Slack's error
 * code, and whether trying again later can help.
 */

export interface SlackPort {
  postMessage(args: {
    channel: string;
    text: string;
    blocks?: KnownBlock[];
    threadTs?: string;
    /** Tags the message (Slack message metadata) so it can be found again after a crash. */
    notificationKey?: string;
  }): Promise<{ channel: string; ts: string }>;
  /** The ts of a recent message tagged with this key, in the channel or under `threadTs`; null if none. */
  findTaggedMessage(args: {
    channel: string;
    threadTs?: string;
    notificationKey: string;
  }): Promise<string | null>;
  updateMessage(args: { channel: string; ts: string; text: string; blocks?: KnownBlock[] }): Promise<void>;
  postEphemeral(args: { channel: string; user: string; text: string }): Promise<void>;
  openView(triggerId: string, view: View): Promise<void>;
  userGroupMembers(groupId: string): Promise<string[]>;
}

/** The Slack message metadata type deploybot tags its notifications with. */
export const NOTIFICATION_EVENT_TYPE = "deploybot_notification";

export class SlackCallError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = "SlackCallError";
  }
}

export interface SlackClientOptions {
  token: string;
  /** SLACK_API_URL, e.g. https://slack.com/api/ */
  apiUrl: string;
  timeoutMs?: number;
  retries?: number;
}

/** Platform errors that say "Slack is having trouble", not "your request is wrong". */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  "ratelimited",
  "rate_limited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

/** Hints for the platform errors an operator can fix. */
const PLATFORM_HINTS: Record<string, string> = {
  invalid_auth: "check SLACK_BOT_TOKEN",
  not_authed: "check SLACK_BOT_TOKEN",
  token_revoked: "the app was uninstalled or its token revoked; reinstall it and update SLACK_BOT_TOKEN",
  account_inactive: "the app was uninstalled or its token revoked; reinstall it and update SLACK_BOT_TOKEN",
  channel_not_found: "check slack.channel in .github/deploybot.yml",
  not_in_channel: "invite the app to the channel (/invite @deploybot)",
  missing_scope: "add the missing OAuth scope to the Slack app and reinstall it",
  expired_trigger_id: "the modal must be opened within 3 seconds of the click",
};

export function toSlackCallError(
  method: string,
  error: unknown,
  options: { token: string; timeoutMs: number },
): SlackCallError {
  const make = (detail: string, code: string | undefined, transient: boolean) =>
    new SlackCallError(redact(`${method} failed: ${detail}`, options.token), code, transient);

  if (error instanceof SlackCallError) return error;
  if (error instanceof WebAPIPlatformError) {
    const code = String(error.data.error);
    const hint = PLATFORM_HINTS[code];
    return make(hint ? `${code} (${hint})` : code, code, TRANSIENT_PLATFORM_ERRORS.has(code));
  }
  if (error instanceof WebAPIRateLimitedError) {
    return make(`rate limited, retry after ${error.retryAfter} s`, "ratelimited", true);
  }
  if (error instanceof WebAPIHTTPError) {
    const status = error.statusCode;
    return make(`HTTP ${status}`, `http_${status}`, status >= 500 || status === 408 || status === 429);
  }
  if (error instanceof WebAPIRequestError) {
    const original = error.original;
    if (original.name === "TimeoutError" || original.name === "AbortError") {
      return make(`no answer within ${options.timeoutMs} ms`, "timeout", true);
    }
    if (/rate limit was exceeded/i.test(original.message)) {
      // With rejectRateLimitedCalls false, the client waits out Retry-After and retries; once the
      // retries are spent, the last 429 comes out as a request error.
      return make("rate limited (HTTP 429)", "ratelimited", true);
    }
    return make(`request error (${original.message})`, "request_error", true);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return make(detail, undefined, false);
}

function redact(message: string, token: string): string {
  return token ? message.split(token).join("[redacted]") : message;
}

export function createSlackClient(options: SlackClientOptions): SlackPort {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clientOptions = {
    slackApiUrl: options.apiUrl,
    timeout: timeoutMs,
    retryConfig: { retries: options.retries ?? 2, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    rejectRateLimitedCalls: false,
    logLevel: LogLevel.ERROR,
  };
  const web = new WebClient(options.token, clientOptions);
  // A post that Slack made but whose answer was lost must not be sent again blindly: posts are not
  // retried by the client; the caller looks for the tagged message before posting again.
  const poster = new WebClient(options.token, { ...clientOptions, retryConfig: { retries: 0 } });

  async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toSlackCallError(method, error, { token: options.token, timeoutMs });
    }
  }

  return {
    async postMessage({ channel, text, blocks, threadTs, notificationKey }) {
      const result = await call("chat.postMessage", () =>
        poster.chat.postMessage({
          channel,
          text,
          ...(blocks ? { blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
          ...(notificationKey
            ? { metadata: { event_type: NOTIFICATION_EVENT_TYPE, event_payload: { key: notificationKey } } }
            : {}),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!result.ts) {
        throw new SlackCallError("chat.postMessage failed: the answer has no ts", "invalid_response", false);
      }
      return { channel: result.channel ?? channel, ts: result.ts };
    },

    async findTaggedMessage({ channel, threadTs, notificationKey }) {
      const result = threadTs
        ? await call("conversations.replies", () =>
            web.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 200 }),
          )
        : await call("conversations.history", () =>
            web.conversations.history({ channel, include_all_metadata: true, limit: 100 }),
          );
      const tagged = (result.messages ?? []).find(
        (m) =>
          m.metadata?.event_type === NOTIFICATION_EVENT_TYPE &&
          (m.metadata.event_payload as { key?: unknown } | undefined)?.key === notificationKey,
      );
      return tagged?.ts ?? null;
    },

    async updateMessage({ channel, ts, text, blocks }) {
      await call("chat.update", () => web.chat.update({ channel, ts, text, ...(blocks ? { blocks } : {}) }));
    },

    async postEphemeral({ channel, user, text }) {
      await call("chat.postEphemeral", () => web.chat.postEphemeral({ channel, user, text }));
    },

    async openView(triggerId, view) {
      await call("views.open", () => web.views.open({ trigger_id: triggerId, view }));
    },

    async userGroupMembers(groupId) {
      const result = await call("usergroups.users.list", () =>
        web.usergroups.users.list({ usergroup: groupId }),
      );
      return result.users ?? [];
    },
  };
}
