import { createSign } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EnvError, parseSettings, type Settings } from "../config/env.js";
import { openStore } from "../store/open-store.js";
import { clip } from "../thread/text.js";

/**
 * `deploybot doctor`: checks, one by one, what deploybot needs to run (the settings, the GitHub
 * App's credentials, the Slack token, the database, the model endpoint) and says for each what is
 * wrong and how to fix it. Each check is a plain function of the settings; the network calls are
 * the ones deploybot itself makes, so a test answers them with nock.
 */

export type CheckState = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  name: string;
  state: CheckState;
  detail: string;
  /** What to do about it, for warn and fail. */
  fix?: string;
}

const TIMEOUT_MS = 10_000;

async function fetchJson(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await response.text();
  try {
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  } catch {
    return { status: response.status, body: clip(text, 200) };
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

export function checkSettings(env: Record<string, string | undefined>): {
  result: CheckResult;
  settings: Settings | null;
} {
  try {
    const settings = parseSettings(env);
    const missing = [
      !settings.appId && "APP_ID",
      !settings.webhookSecret && "WEBHOOK_SECRET",
      settings.apiTokens.size === 0 && "DEPLOYBOT_API_TOKENS",
    ].filter(Boolean);
    return {
      settings,
      result: missing.length
        ? {
            name: "settings",
            state: "warn",
            detail: `valid, but ${missing.join(", ")} not set`,
            fix: "set them in the environment or .env (see .env.example); without APP_ID, npm start runs the GitHub App setup",
          }
        : {
            name: "settings",
            state: "ok",
            detail: `valid; decider ${settings.decider}, database ${settings.databaseUrl.split(":")[0]}`,
          },
    };
  } catch (error) {
    const problems = error instanceof EnvError ? error.problems.join("; ") : String(error);
    return {
      settings: null,
      result: {
        name: "settings",
        state: "fail",
        detail: problems,
        fix: "correct these variables (see .env.example)",
      },
    };
  }
}

/** The GitHub App's private key as Probot finds it: PRIVATE_KEY (PEM, escaped PEM or base64), PRIVATE_KEY_PATH, or the one *.pem here. */
export function privateKeyOf(settings: Settings, cwd: string): string | null {
  const raw = settings.privateKey;
  if (raw) {
    if (raw.includes("-----BEGIN")) return raw.replace(/\\n/g, "\n");
    const decoded = Buffer.from(raw, "base64").toString("utf8");
    return decoded.includes("-----BEGIN") ? decoded : null;
  }
  if (settings.privateKeyPath) {
    return existsSync(settings.privateKeyPath) ? readFileSync(settings.privateKeyPath, "utf8") : null;
  }
  const pems = readdirSync(cwd).filter((f) => f.endsWith(".pem"));
  return pems.length === 1 ? readFileSync(join(cwd, pems[0]!), "utf8") : null;
}

/** A GitHub App JWT (RS256), valid for nine minutes. */
export function appJwt(appId: string, privateKey: string, now: Date): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const iat = Math.floor(now.getTime() / 1000) - 60;
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat, exp: iat + 600, iss: appId })}`;
  const signature = createSign("RSA-SHA256").update(unsigned).sign(privateKey, "base64url");
  return `${unsigned}.${signature}`;
}

export function githubApiUrl(settings: Settings): string {
  return settings.gheHost
    ? `${settings.gheProtocol ?? "https"}://${settings.gheHost}/api/v3`
    : "https://api.github.com";
}

export async function checkGitHubApp(settings: Settings, cwd: string, now: Date): Promise<CheckResult> {
  const name = "GitHub App";
  if (!settings.appId) {
    return {
      name,
      state: "fail",
      detail: "APP_ID is not set",
      fix: "run npm start once to register the app from app.yml, or set APP_ID and PRIVATE_KEY",
    };
  }
  const key = privateKeyOf(settings, cwd);
  if (!key) {
    return {
      name,
      state: "fail",
      detail: "no private key found",
      fix: "set PRIVATE_KEY (the PEM, or base64 of it) or PRIVATE_KEY_PATH to the key downloaded from the app's settings",
    };
  }
  let jwt: string;
  try {
    jwt = appJwt(settings.appId, key, now);
  } catch (error) {
    return {
      name,
      state: "fail",
      detail: `the private key cannot sign: ${clip(String(error), 160)}`,
      fix: "use the .pem GitHub generated for this app",
    };
  }
  const api = githubApiUrl(settings);
  const headers = {
    authorization: `Bearer ${jwt}`,
    accept: "application/vnd.github+json",
    "user-agent": "deploybot-doctor",
  };
  try {
    const app = await fetchJson(`${api}/app`, { headers });
    if (app.status === 401) {
      return {
        name,
        state: "fail",
        detail: `${api} refused the app's credentials (401)`,
        fix: "check that APP_ID and the private key belong to the same GitHub App, and the machine's clock",
      };
    }
    if (app.status !== 200) {
      return {
        name,
        state: "fail",
        detail: `${api}/app answered ${app.status}`,
        fix: "check GHE_HOST and GHE_PROTOCOL",
      };
    }
    const installations = await fetchJson(`${api}/app/installations?per_page=100`, { headers });
    const count = Array.isArray(installations.body) ? installations.body.length : 0;
    const slug = String(field(app.body, "slug") ?? settings.appId);
    return count === 0
      ? {
          name,
          state: "warn",
          detail: `app ${slug} authenticates but is installed nowhere`,
          fix: "install the app on the repositories it should deploy",
        }
      : { name, state: "ok", detail: `app ${slug}, installed on ${count} account${count === 1 ? "" : "s"}` };
  } catch (error) {
    return {
      name,
      state: "fail",
      detail: `could not reach ${api}: ${clip(String(error), 160)}`,
      fix: "check the network, GHE_HOST and GHE_PROTOCOL",
    };
  }
}

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
    return {
      name,
      state: "fail",
      detail: `could not reach ${url}: ${clip(String(error), 160)}`,
      fix: "check the network and SLACK_API_URL",
    };
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
    return {
      name,
      state: "fail",
      detail: `could not reach ${base}: ${clip(String(error), 160)}`,
      fix: "check the network and OPENAI_BASE_URL",
    };
  }
}

/** Runs every check in order; a failed settings check stops the rest (they need the settings). */
export async function runDoctor(
  env: Record<string, string | undefined>,
  cwd: string,
  now: Date,
): Promise<CheckResult[]> {
  const { result, settings } = checkSettings(env);
  if (!settings) return [result];
  return [
    result,
    await checkGitHubApp(settings, cwd, now),
    await checkSlack(settings),
    await checkDatabase(settings),
    await checkModel(settings),
  ];
}

const MARKS: Record<CheckState, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

export function formatChecks(results: readonly CheckResult[]): string {
  return results
    .map((r) => `${MARKS[r.state]}  ${r.name}: ${r.detail}${r.fix ? `\n      fix: ${r.fix}` : ""}`)
    .join("\n");
}
