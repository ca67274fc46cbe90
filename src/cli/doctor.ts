import { EnvError, parseSettings, type Settings } from "../config/env.js";
import { type CheckResult, type CheckState } from "./doctor-check.js";
import { checkGitHubApp } from "./doctor-github.js";
import { checkDatabase, checkModel, checkSlack } from "./doctor-services.js";

/**
 * `deploybot doctor`: checks, one by one, what deploybot needs to run (the settings, the GitHub
 * App's credentials, the Slack token, the database, the model endpoint) and says for each what is
 * wrong and how to fix it. Each check is a plain function of the settings; the network calls are
 * the ones deploybot itself makes, so a test answers them with nock.
 */

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
