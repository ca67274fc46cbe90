import Database from "better-sqlite3";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { createOpenAiDecider } from "../../src/agent/decide.js";
import { loadPrompts } from "../../src/agent/prompts.js";
import { parseSettings, secretValues } from "../../src/config/env.js";
import { deploymentStatus, MERGE_SHA, mergedPullRequest } from "../helpers/fixtures.js";
import { mockCreateDeployment, mockDispatch, mockMergeContext } from "../helpers/github-mocks.js";
import {
  mockSlack,
  SLACK_SIGNING_SECRET,
  SLACK_TOKEN,
  startAppServer,
  type AppServer,
} from "../helpers/app-server.js";
import { testPrivateKey, WEBHOOK_SECRET } from "../helpers/probot.js";

const OPENAI_KEY = "sk-proj-secret-value-0123456789abcdef";
const LLM = "http://llm.secrets.test:8000";
let app: AppServer | undefined;
afterEach(async () => app?.stop());

describe("secrets", () => {
  it("are listed from the settings so they can be kept out of logs and prompts", () => {
    const settings = parseSettings({
      PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----abc",
      WEBHOOK_SECRET,
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_SIGNING_SECRET,
      OPENAI_API_KEY: OPENAI_KEY,
      DEPLOYBOT_API_TOKENS: "ci:api-token-0123456789abcdef",
    });
    expect(secretValues(settings).sort()).toEqual(
      [
        "-----BEGIN RSA PRIVATE KEY-----abc",
        WEBHOOK_SECRET,
        SLACK_TOKEN,
        SLACK_SIGNING_SECRET,
        OPENAI_KEY,
        "api-token-0123456789abcdef",
      ].sort(),
    );
  });

  it("never reach the model's context, the logs or the database during a whole deploy", async () => {
    const prompts: string[] = [];
    const answer = (environment: string) => ({
      id: "c",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [
        {
          index: 0,
          finish_reason: "stop",
          logprobs: null,
          message: {
            role: "assistant",
            refusal: null,
            content: JSON.stringify({
              intent: "deploy_backend",
              environment,
              sha: MERGE_SHA,
              reason: "promote",
              component: null,
              to_sha: null,
              question: null,
              message: null,
            }),
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
    const model = nock(LLM)
      .post("/v1/chat/completions", (body: { messages: { content: string }[] }) => {
        prompts.push(JSON.stringify(body));
        return true;
      })
      .reply(200, answer("staging"))
      .post("/v1/chat/completions", (body: { messages: { content: string }[] }) => {
        prompts.push(JSON.stringify(body));
        return true;
      })
      .reply(200, answer("production"));
    const databaseDir = mkdtempSync(join(tmpdir(), "deploybot-secrets-"));
    app = await startAppServer({
      decider: createOpenAiDecider({
        apiKey: OPENAI_KEY,
        baseURL: `${LLM}/v1`,
        model: "m",
        maxRetries: 0,
        prompts: loadPrompts(),
      }),
      databasePath: join(databaseDir, "db.sqlite"),
    });
    const scopes = [
      ...mockMergeContext(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
      mockSlack(app.slackCalls, { "chat.postMessage": 4 }),
      model,
    ];

    await app.webhook("pull_request", mergedPullRequest());
    await app.runWorker();
    await app.webhook("deployment_status", deploymentStatus({ deploymentId: 1001, state: "success" }));
    await app.runWorker();

    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    const db = new Database(join(databaseDir, "db.sqlite"), { readonly: true });
    const stored = ["events", "inbox", "threads", "refs", "deployments"]
      .map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()))
      .join("\n");
    db.close();
    const privateKeyBody = testPrivateKey().split("\n")[1]!;
    const secrets = [OPENAI_KEY, SLACK_TOKEN, SLACK_SIGNING_SECRET, WEBHOOK_SECRET, privateKeyBody];
    for (const secret of secrets) {
      expect(prompts.join("\n")).not.toContain(secret);
      expect(app.log.lines.join("\n")).not.toContain(secret);
      expect(stored).not.toContain(secret);
      expect(JSON.stringify(app.slackCalls)).not.toContain(secret);
    }
    expect(stored).toContain("approval_requested"); // the scan looked at real data
  });
});
