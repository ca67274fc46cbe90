import { readFileSync, existsSync } from "node:fs";
import { parseEnv } from "node:util";
import { z } from "zod";

/**
 * The one module that reads process.env. Every setting deploybot and Probot use is declared here,
 * validated at start, and handed to the rest of the code as a typed object.
 */

const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const apiTokens = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const tokens = new Map<string, string>();
      if (!raw) return tokens;
      for (const pair of raw
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const index = pair.indexOf(":");
        const name = index > 0 ? pair.slice(0, index) : "";
        const token = index > 0 ? pair.slice(index + 1) : "";
        if (!name || token.length < 16) {
          ctx.addIssue({
            code: "custom",
            message: "expected comma-separated name:token pairs, each token at least 16 characters",
          });
          return z.NEVER;
        }
        tokens.set(token, name);
      }
      return tokens;
    }),
);

export const EnvSchema = z
  .object({
    NODE_ENV: optionalString,
    APP_ID: optionalString,
    PRIVATE_KEY: optionalString,
    PRIVATE_KEY_PATH: optionalString,
    WEBHOOK_SECRET: optionalString,
    WEBHOOK_PROXY_URL: z.preprocess(emptyToUndefined, z.url().optional()),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    ),
    GHE_HOST: optionalString,
    GHE_PROTOCOL: z.preprocess(emptyToUndefined, z.enum(["http", "https"]).optional()),
    PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
    HOST: z.preprocess(emptyToUndefined, z.string().default("localhost")),
    DATABASE_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .default("sqlite:./data/deploybot.sqlite")
        .refine((url) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(url), {
          message: "expected sqlite:<path>, postgres://... or postgresql://...",
        }),
    ),
    SLACK_BOT_TOKEN: optionalString,
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_API_URL: z.preprocess(emptyToUndefined, z.url().default("https://slack.com/api/")),
    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: z.preprocess(emptyToUndefined, z.url().optional()),
    OPENAI_MODEL: z.preprocess(emptyToUndefined, z.string().default("gpt-4.1-mini")),
    DEPLOYBOT_DECIDER: z.preprocess(emptyToUndefined, z.enum(["openai", "rules"]).optional()),
    DEPLOYBOT_API_TOKENS: apiTokens,
    DEPLOYBOT_WORKER_POLL_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(10).default(500)),
    DEPLOYBOT_INBOX_LEASE_MS: z.preprocess(
      emptyToUndefined,
      z.coerce.number().int().min(1_000).default(60_000),
    ),
    DEPLOYBOT_WORKER_CONCURRENCY: z.preprocess(
      emptyToUndefined,
      z.coerce.number().int().min(1).max(64).default(4),
    ),
    DEPLOYBOT_RETENTION_DAYS: z.preprocess(
      emptyToUndefined,
      z.coerce.number().int().min(1).max(36_500).default(90),
    ),
    DEPLOYBOT_SHUTDOWN_GRACE_MS: z.preprocess(
      emptyToUndefined,
      z.coerce.number().int().min(0).max(600_000).default(10_000),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.DEPLOYBOT_DECIDER === "openai" && !env.OPENAI_API_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["OPENAI_API_KEY"],
        message:
          "DEPLOYBOT_DECIDER=openai needs OPENAI_API_KEY (any non-empty value for servers without keys, e.g. Ollama)",
      });
    }
    if (env.NODE_ENV === "production" && env.APP_ID && !env.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET"],
        message: "is required in production: set it to the webhook secret of the GitHub App",
      });
    }
  });

export type EnvInput = Record<string, string | undefined>;

export interface Settings {
  nodeEnv: string | undefined;
  appId: string | undefined;
  privateKey: string | undefined;
  privateKeyPath: string | undefined;
  webhookSecret: string | undefined;
  webhookProxyUrl: string | undefined;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  gheHost: string | undefined;
  gheProtocol: "http" | "https" | undefined;
  port: number;
  host: string;
  databaseUrl: string;
  slack: { botToken: string | undefined; signingSecret: string | undefined; apiUrl: string };
  openai: { apiKey: string | undefined; baseUrl: string | undefined; model: string };
  decider: "openai" | "rules";
  /** token -> name */
  apiTokens: Map<string, string>;
  workerPollMs: number;
  /**
   * How long a claimed inbox entry, and a thread being advanced, stay leased without a heartbeat
   * (a crashed worker's entries and threads lapse after this).
   */
  inboxLeaseMs: number;
  /** Inbox entries handled at once, never two of the same thread. */
  workerConcurrency: number;
  /** On SIGTERM, how long running work may take to finish before the process exits. */
  shutdownGraceMs: number;
  /** Finished threads are deleted this many days after they ended. */
  retentionDays: number;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join("\n")}\nSee .env.example.`);
    this.name = "EnvError";
  }
}

export function parseSettings(env: EnvInput): Settings {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`),
    );
  }
  const e = result.data;
  return {
    nodeEnv: e.NODE_ENV,
    appId: e.APP_ID,
    privateKey: e.PRIVATE_KEY,
    privateKeyPath: e.PRIVATE_KEY_PATH,
    webhookSecret: e.WEBHOOK_SECRET,
    webhookProxyUrl: e.WEBHOOK_PROXY_URL,
    logLevel: e.LOG_LEVEL,
    gheHost: e.GHE_HOST,
    gheProtocol: e.GHE_PROTOCOL,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    slack: { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, apiUrl: e.SLACK_API_URL },
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL },
    decider: e.DEPLOYBOT_DECIDER ?? (e.OPENAI_API_KEY ? "openai" : "rules"),
    apiTokens: e.DEPLOYBOT_API_TOKENS,
    workerPollMs: e.DEPLOYBOT_WORKER_POLL_MS,
    inboxLeaseMs: e.DEPLOYBOT_INBOX_LEASE_MS,
    workerConcurrency: e.DEPLOYBOT_WORKER_CONCURRENCY,
    shutdownGraceMs: e.DEPLOYBOT_SHUTDOWN_GRACE_MS,
    retentionDays: e.DEPLOYBOT_RETENTION_DAYS,
  };
}

/**
 * Loads `.env` the way Probot does (its values override the process environment, so both read the
 * same settings) and returns the process environment.
 */
export function loadProcessEnv(cwd = process.cwd()): EnvInput {
  const file = `${cwd}/.env`;
  if (existsSync(file)) Object.assign(process.env, parseEnv(readFileSync(file, "utf8")));
  return process.env;
}

/** The process environment as it is, for an entry point that reads a variable of its own. */
export function processEnv(): EnvInput {
  return process.env;
}

/**
 * For an entry point that configures the server it then starts in the same process (the demo):
 * sets these variables and clears the others named.
 */
export function setProcessEnv(values: Record<string, string>, unset: readonly string[] = []): void {
  Object.assign(process.env, values);
  for (const name of unset) delete process.env[name];
}

/** Secret values that must never reach a log line or a model prompt. */
export function secretValues(settings: Settings): string[] {
  return [
    settings.privateKey,
    settings.webhookSecret,
    settings.slack.botToken,
    settings.slack.signingSecret,
    settings.openai.apiKey,
    ...settings.apiTokens.keys(),
  ].filter((value): value is string => typeof value === "string" && value.length >= 8);
}

/**
 * Probot's setup page builds the app manifest's webhook URL from WEBHOOK_PROXY_URL when it is set
 * (the smee.io channel it creates for development) and otherwise from the page's own address plus
 * `/`, where nothing answers. When no channel exists once setup mode is up, point the manifest at
 * deploybot's webhook route instead. Returns the URL the manifest will carry.
 */
export function manifestWebhookUrl(webhookRouteUrl: string): string {
  if (!process.env.WEBHOOK_PROXY_URL) process.env.WEBHOOK_PROXY_URL = webhookRouteUrl;
  return process.env.WEBHOOK_PROXY_URL;
}
