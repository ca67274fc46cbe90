import { afterEach, describe, expect, it } from "vitest";
import { EnvError, manifestWebhookUrl, parseSettings } from "../../src/config/env.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseSettings(env);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  throw new Error("expected the environment to be invalid");
}

describe("the process settings", () => {
  it("default to the contract's values", () => {
    const settings = parseSettings({});
    expect(settings).toMatchObject({
      port: 3000,
      host: "localhost",
      databaseUrl: "sqlite:./data/deploybot.sqlite",
      decider: "rules",
      logLevel: "info",
      inboxLeaseMs: 60_000,
      workerConcurrency: 4,
      shutdownGraceMs: 10_000,
      retentionDays: 90,
    });
    expect(settings.slack.apiUrl).toBe("https://slack.com/api/");
  });

  it("choose the openai decider when a key is set, unless told otherwise", () => {
    expect(parseSettings({ OPENAI_API_KEY: "sk-1" }).decider).toBe("openai");
    expect(parseSettings({ OPENAI_API_KEY: "sk-1", DEPLOYBOT_DECIDER: "rules" }).decider).toBe("rules");
  });

  it("name the variable of each problem", () => {
    expect(problemsOf({ PORT: "eighty", DATABASE_URL: "mysql://x" })).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(
        /^DATABASE_URL: expected sqlite:<path>, postgres:\/\/\.\.\. or postgresql:\/\/\.\.\./,
      ),
    ]);
  });

  it("bound the worker's concurrency and name the variable when it is out of range", () => {
    expect(parseSettings({ DEPLOYBOT_WORKER_CONCURRENCY: "8" }).workerConcurrency).toBe(8);
    expect(problemsOf({ DEPLOYBOT_WORKER_CONCURRENCY: "0" })[0]).toMatch(/^DEPLOYBOT_WORKER_CONCURRENCY: /);
    expect(problemsOf({ DEPLOYBOT_SHUTDOWN_GRACE_MS: "soon" })[0]).toMatch(/^DEPLOYBOT_SHUTDOWN_GRACE_MS: /);
  });

  it("require a key for the openai decider", () => {
    expect(problemsOf({ DEPLOYBOT_DECIDER: "openai" })[0]).toMatch(/^OPENAI_API_KEY: /);
  });

  it("require the webhook secret in production", () => {
    expect(problemsOf({ NODE_ENV: "production", APP_ID: "1" })).toEqual([
      "WEBHOOK_SECRET: is required in production: set it to the webhook secret of the GitHub App",
    ]);
  });

  it("read API tokens as name:token pairs, keyed by token", () => {
    const settings = parseSettings({
      DEPLOYBOT_API_TOKENS: "ci:0123456789abcdef0123, ops:fedcba9876543210fedc",
    });
    expect([...settings.apiTokens.entries()]).toEqual([
      ["0123456789abcdef0123", "ci"],
      ["fedcba9876543210fedc", "ops"],
    ]);
    expect(problemsOf({ DEPLOYBOT_API_TOKENS: "ci:short" })[0]).toContain("name:token pairs");
  });

  it("treat empty values as unset", () => {
    expect(parseSettings({ PORT: "", OPENAI_API_KEY: "" })).toMatchObject({ port: 3000, decider: "rules" });
  });
});

describe("the app manifest of Probot's setup flow", () => {
  const saved = process.env.WEBHOOK_PROXY_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.WEBHOOK_PROXY_URL;
    else process.env.WEBHOOK_PROXY_URL = saved;
  });

  it("points the webhook at deploybot's webhook route when no smee.io channel exists", () => {
    delete process.env.WEBHOOK_PROXY_URL;
    expect(manifestWebhookUrl("http://localhost:3000/api/github/webhooks")).toBe(
      "http://localhost:3000/api/github/webhooks",
    );
    expect(process.env.WEBHOOK_PROXY_URL).toBe("http://localhost:3000/api/github/webhooks");
  });

  it("keeps the smee.io channel that relays webhooks to this machine", () => {
    process.env.WEBHOOK_PROXY_URL = "https://smee.io/abc123";
    expect(manifestWebhookUrl("http://localhost:3000/api/github/webhooks")).toBe("https://smee.io/abc123");
  });
});
