import { generateKeyPairSync, createVerify } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { checkDatabase, checkModel, checkSlack } from "../../src/cli/doctor-services.js";
import { checkGitHubApp } from "../../src/cli/doctor-github.js";
import { checkSettings, runDoctor } from "../../src/cli/doctor.js";
import { parseSettings } from "../../src/config/env.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const NOW = new Date("2026-11-24T12:00:00Z");
const CWD = mkdtempSync(join(tmpdir(), "deploybot-doctor-"));
const settings = (env: Record<string, string> = {}) =>
  parseSettings({
    APP_ID: "42",
    PRIVATE_KEY: privateKey,
    DATABASE_URL: `sqlite:${join(CWD, "db.sqlite")}`,
    ...env,
  });

describe("the settings check", () => {
  it("names the variable that is wrong and what it expects", () => {
    const { result, settings: parsed } = checkSettings({ DEPLOYBOT_API_TOKENS: "ci:short" });
    expect(parsed).toBeNull();
    expect(result).toMatchObject({ state: "fail" });
    expect(result.detail).toContain("DEPLOYBOT_API_TOKENS: expected comma-separated name:token pairs");
  });

  it("warns about what is valid but missing", () => {
    expect(checkSettings({}).result).toMatchObject({
      state: "warn",
      detail: expect.stringContaining("APP_ID"),
    });
  });
});

describe("the GitHub App check", () => {
  it("signs in as the app with a JWT from the private key and counts its installations", async () => {
    let jwt = "";
    const scope = nock("https://api.github.com")
      .get("/app")
      .reply(200, function () {
        jwt = String(this.req.headers.authorization).replace("Bearer ", "");
        return { id: 42, slug: "deploybot-acme" };
      })
      .get("/app/installations")
      .query({ per_page: "100" })
      .reply(200, [{ id: 1 }, { id: 2 }]);

    const result = await checkGitHubApp(settings(), CWD, NOW);

    expect(result).toEqual({
      name: "GitHub App",
      state: "ok",
      detail: "app deploybot-acme, installed on 2 accounts",
    });
    const [header, payload, signature] = jwt.split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({ iss: "42" });
    expect(
      createVerify("RSA-SHA256").update(`${header}.${payload}`).verify(publicKey, signature!, "base64url"),
    ).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it("says to check the app id and key when GitHub refuses them, on GitHub Enterprise Server too", async () => {
    const scope = nock("http://ghe.test")
      .get("/api/v3/app")
      .reply(401, { message: "A JSON web token could not be decoded" });
    const result = await checkGitHubApp(settings({ GHE_HOST: "ghe.test", GHE_PROTOCOL: "http" }), CWD, NOW);
    expect(result).toMatchObject({
      state: "fail",
      fix: expect.stringContaining("APP_ID and the private key"),
    });
    expect(scope.isDone()).toBe(true);
  });

  it("fails without a private key and says where to put it", async () => {
    const result = await checkGitHubApp(parseSettings({ APP_ID: "42" }), CWD, NOW);
    expect(result).toMatchObject({
      state: "fail",
      detail: "no private key found",
      fix: expect.stringContaining("PRIVATE_KEY"),
    });
  });
});

describe("the Slack check", () => {
  it("calls auth.test with the bot token", async () => {
    const scope = nock("https://slack.com", { reqheaders: { authorization: "Bearer xoxb-good" } })
      .post("/api/auth.test")
      .reply(200, { ok: true, team: "Acme", user: "deploybot" });
    const result = await checkSlack(
      settings({ SLACK_BOT_TOKEN: "xoxb-good", SLACK_SIGNING_SECRET: "s3cret" }),
    );
    expect(result).toEqual({ name: "Slack", state: "ok", detail: "signed in to Acme as deploybot" });
    expect(scope.isDone()).toBe(true);
  });

  it("reports Slack's error with the variable to check", async () => {
    const scope = nock("https://slack.com")
      .post("/api/auth.test")
      .reply(200, { ok: false, error: "invalid_auth" });
    const result = await checkSlack(settings({ SLACK_BOT_TOKEN: "xoxb-bad" }));
    expect(result).toMatchObject({
      state: "fail",
      detail: "auth.test: invalid_auth",
      fix: expect.stringContaining("SLACK_BOT_TOKEN"),
    });
    expect(scope.isDone()).toBe(true);
  });
});

describe("the database check", () => {
  it("opens the database and reads the inbox", async () => {
    expect(await checkDatabase(settings())).toMatchObject({
      state: "ok",
      detail: expect.stringContaining("sqlite answers"),
    });
  });

  it("says to check DATABASE_URL when the database does not answer", async () => {
    const result = await checkDatabase(settings({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }));
    expect(result).toMatchObject({ state: "fail", fix: expect.stringContaining("DATABASE_URL") });
  });
});

describe("the model check", () => {
  it("finds the configured model at the endpoint", async () => {
    const scope = nock("http://ollama.test")
      .get("/v1/models")
      .reply(200, { data: [{ id: "llama3.1" }] });
    const result = await checkModel(
      settings({
        OPENAI_API_KEY: "ollama",
        OPENAI_BASE_URL: "http://ollama.test/v1",
        OPENAI_MODEL: "llama3.1",
      }),
    );
    expect(result).toEqual({ name: "model", state: "ok", detail: "http://ollama.test/v1 serves llama3.1" });
    expect(scope.isDone()).toBe(true);
  });

  it("names the models the endpoint serves when the configured one is missing", async () => {
    const scope = nock("https://api.openai.com")
      .get("/v1/models")
      .reply(200, { data: [{ id: "gpt-4.1" }] });
    const result = await checkModel(settings({ OPENAI_API_KEY: "sk-test", OPENAI_MODEL: "gpt-9" }));
    expect(result).toMatchObject({ state: "fail", fix: "set OPENAI_MODEL to one it serves (e.g. gpt-4.1)" });
    expect(scope.isDone()).toBe(true);
  });

  it("is skipped when the rules decider decides", async () => {
    expect(await checkModel(settings())).toMatchObject({ state: "skip" });
  });
});

describe("deploybot doctor", () => {
  it("stops after the settings check when the settings are invalid", async () => {
    const results = await runDoctor({ PORT: "not-a-port" }, CWD, NOW);
    expect(results.map((r) => [r.name, r.state])).toEqual([["settings", "fail"]]);
  });
});
