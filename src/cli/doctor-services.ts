import { type Settings } from "../config/env.js";
import { openStore } from "../store/open-store.js";
import { clip } from "../thread/text.js";
import { type CheckResult, fetchJson, field, unreachable } from "./doctor-check.js";

/** The doctor's checks of Slack, the database and the model endpoint. */

export async function checkSlack(settings: Settings): Promise<CheckResult> {
  const name = "Slack";
  if (!settings.slack.botToken) {
    return {
      name,
      state: "warn",
      detail:
        "SLACK_BOT_TOKEN is not set: approvals can only come from the dashboard, the API and PR comments",
      fix: "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET from the Slack app's settings",
    };
  }
  const url = `${settings.slack.apiUrl.replace(/\/?$/, "/")}auth.test`;
  try {
    const { body } = await fetchJson(url, {
      method: "POST",
      headers: { authorization: `Bearer ${settings.slack.botToken}` },
    });
    if (field(body, "ok") !== true) {
      return {
        name,
        state: "fail",
        detail: `auth.test: ${String(field(body, "error") ?? "not ok")}`,
        fix: "check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-...) and SLACK_API_URL",
      };
    }
    if (!settings.slack.signingSecret) {
      return {
        name,
        state: "warn",
        detail: "the token works, but SLACK_SIGNING_SECRET is not set: buttons and commands are refused",
        fix: "set SLACK_SIGNING_SECRET from the Slack app's Basic Information page",
      };
    }
    return {
      name,
      state: "ok",
      detail: `signed in to ${String(field(body, "team") ?? "the workspace")} as ${String(field(body, "user") ?? "the bot")}`,
    };
  } catch (error) {
    return unreachable(name, url, error, "check the network and SLACK_API_URL");
  }
}

export async function checkDatabase(settings: Settings): Promise<CheckResult> {
  const name = "database";
  try {
    const store = await openStore(settings.databaseUrl);
    try {
      const inbox = await store.inboxCounts();
      return {
        name,
        state: "ok",
        detail: `${settings.databaseUrl.split(":")[0]} answers; inbox ${inbox.queued} queued, ${inbox.dead} dead`,
      };
    } finally {
      await store.close();
    }
  } catch (error) {
    return {
      name,
      state: "fail",
      detail: clip(String(error instanceof Error ? error.message : error), 200),
      fix: "check DATABASE_URL and that the database accepts connections",
    };
  }
}

export async function checkModel(settings: Settings): Promise<CheckResult> {
  const name = "model";
  if (settings.decider === "rules") {
    return { name, state: "skip", detail: "the rules decider decides (set OPENAI_API_KEY to use a model)" };
  }
  const base = (settings.openai.baseUrl ?? "https://api.openai.com/v1").replace(/\/+$/, "");
  try {
    const { status, body } = await fetchJson(`${base}/models`, {
      headers: { authorization: `Bearer ${settings.openai.apiKey}` },
    });
    if (status === 401 || status === 403) {
      return {
        name,
        state: "fail",
        detail: `${base} refused the key (${status})`,
        fix: "check OPENAI_API_KEY",
      };
    }
    if (status !== 200) {
      return {
        name,
        state: "fail",
        detail: `${base}/models answered ${status}`,
        fix: "check OPENAI_BASE_URL (an OpenAI-compatible server, ending in /v1)",
      };
    }
    const models = field(body, "data");
    const ids = Array.isArray(models) ? models.map((m) => String(field(m, "id"))) : [];
    return ids.includes(settings.openai.model)
      ? { name, state: "ok", detail: `${base} serves ${settings.openai.model}` }
      : {
          name,
          state: "fail",
          detail: `${base} does not list ${settings.openai.model}`,
          fix: `set OPENAI_MODEL to one it serves${ids.length ? ` (e.g. ${ids.slice(0, 3).join(", ")})` : ""}`,
        };
  } catch (error) {
    return unreachable(name, base, error, "check the network and OPENAI_BASE_URL");
  }
}

/** Runs every check in order; a failed settings check stops the rest (they need the settings). */
