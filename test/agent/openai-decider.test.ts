import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { createOpenAiDecider, type DecisionResult } from "../../src/agent/decide.js";
import { loadPrompts, promptHash } from "../../src/agent/prompts.js";
import { MERGE_SHA, mergeStart, on, sampleConfig, threadWith } from "../helpers/thread-builder.js";

const API_KEY = "sk-test-0123456789abcdefSECRET";
const MODEL = "gpt-4o-mini";
const prompts = loadPrompts();
const config = sampleConfig();
const thread = threadWith([...mergeStart(), on.deployed({ "backend/staging": null })]);

interface ChatRequest {
  model: string;
  temperature: number;
  messages: { role: string; content: string }[];
  response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
}

function completion(message: { content: string | null; refusal?: string | null }, finishReason = "stop") {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1_700_000_000,
    model: MODEL,
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        logprobs: null,
        message: { role: "assistant", content: message.content, refusal: message.refusal ?? null },
      },
    ],
    usage: { prompt_tokens: 812, completion_tokens: 41, total_tokens: 853 },
  };
}

/** A full answer as structured outputs return it: every field present, unused ones null. */
function answer(fields: Record<string, string>): string {
  const empty = {
    environment: null,
    sha: null,
    component: null,
    to_sha: null,
    question: null,
    message: null,
    reason: null,
  };
  return JSON.stringify({ ...empty, ...fields });
}

/** Mocks one chat completion call and records the body it was sent. */
function mockChat(
  reply: { status?: number; body: unknown },
  origin = "https://api.openai.com",
  path = "/v1/chat/completions",
) {
  const sent: ChatRequest[] = [];
  const scope = nock(origin)
    .post(path, (body: ChatRequest) => {
      sent.push(body);
      return true;
    })
    .reply(reply.status ?? 200, reply.body as nock.Body);
  return { scope, sent };
}

async function decideWith(options: { baseURL?: string } = {}) {
  let now = 5_000;
  const decider = createOpenAiDecider({
    apiKey: API_KEY,
    model: MODEL,
    maxRetries: 0,
    timeoutMs: 5_000,
    prompts,
    clock: () => (now += 150),
    ...options,
  });
  return decider.decide({ thread, config });
}

function errorOf(result: DecisionResult): string {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.step)}`);
  return result.error;
}

describe("the prompts", () => {
  it("load the system prompt from prompts/ with a short hash of its text", () => {
    expect(prompts.system).toContain("deploybot");
    expect(prompts.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(prompts.hash).toBe(promptHash(prompts.system));
  });

  it("name the missing file when there is none", () => {
    const dir = mkdtempSync(join(tmpdir(), "deploybot-prompts-"));
    expect(() => loadPrompts(dir)).toThrow(join(dir, "system.md"));
  });
});

describe("the OpenAI decider", () => {
  const deploy = {
    intent: "deploy_backend",
    environment: "staging",
    sha: MERGE_SHA,
    reason: "promote to staging",
  };

  it("asks for a strict JSON schema answer with the system prompt and the rendered context", async () => {
    const { scope, sent } = mockChat({ body: completion({ content: answer(deploy) }) });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    expect(result.ok).toBe(true);
    const [request] = sent;
    expect(request!.model).toBe(MODEL);
    expect(request!.temperature).toBe(0);
    expect(request!.response_format.type).toBe("json_schema");
    expect(request!.response_format.json_schema.name).toBe("next_step");
    expect(request!.response_format.json_schema.strict).toBe(true);
    expect(request!.messages[0]).toEqual({ role: "system", content: prompts.system });
    expect(request!.messages[1]!.role).toBe("user");
    expect(request!.messages[1]!.content).toContain("<question>What is the next step?");
    expect(JSON.stringify(request)).not.toContain(API_KEY);
  });

  it("narrows the answer schema to the repository's intents, components and environments", async () => {
    const { scope, sent } = mockChat({ body: completion({ content: answer(deploy) }) });
    await decideWith();
    expect(scope.isDone()).toBe(true);
    const schema = sent[0]!.response_format.json_schema.schema as {
      properties: Record<string, { enum?: unknown[]; anyOf?: { enum?: unknown[] }[] }>;
    };
    expect(schema.properties.intent!.enum).toEqual([
      "deploy_backend",
      "deploy_frontend",
      "rollback",
      "ask_human",
      "done_for_now",
    ]);
    expect(JSON.stringify(schema.properties.environment)).toContain('["staging","production"]');
    expect(JSON.stringify(schema.properties.component)).toContain('["backend","frontend"]');
  });

  it("resolves the commit label merge to the merged commit's full SHA", async () => {
    const { scope } = mockChat({ body: completion({ content: answer({ ...deploy, sha: "merge" }) }) });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    expect(result.ok && result.step).toEqual(deploy);
  });

  it("explains a label the thread does not define", async () => {
    const { scope } = mockChat({ body: completion({ content: answer({ ...deploy, sha: "tip" }) }) });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    expect(errorOf(result)).toBe(
      'sha: commit label "tip" means nothing in this thread for backend in staging',
    );
  });

  it("returns a valid answer as a step, with tokens, latency and the prompt hash", async () => {
    const { scope } = mockChat({ body: completion({ content: answer(deploy) }) });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    expect(result).toEqual({
      ok: true,
      step: deploy,
      meta: {
        decider: "openai",
        model: MODEL,
        prompt_hash: prompts.hash,
        tokens_in: 812,
        tokens_out: 41,
        latency_ms: 150,
      },
    });
  });

  it("turns a refusal into a compact error", async () => {
    const refusal = `I can't help with that. ${"Really. ".repeat(60)}`;
    const { scope } = mockChat({ body: completion({ content: null, refusal }) });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    const error = errorOf(result);
    expect(error.startsWith("model refused: I can't help with that.")).toBe(true);
    expect(error.length).toBeLessThanOrEqual("model refused: ".length + 200);
    expect(result.meta.tokens_in).toBe(812);
  });

  it("turns an answer cut at the token limit into an error", async () => {
    const { scope } = mockChat({ body: completion({ content: '{"intent": "depl' }, "length") });
    const error = errorOf(await decideWith());
    expect(scope.isDone()).toBe(true);
    expect(error).toContain("finish_reason length");
  });

  it("reports an answer that is not JSON with its beginning", async () => {
    const { scope } = mockChat({
      body: completion({ content: "Sure! I would deploy the backend to staging first." }),
    });
    const error = errorOf(await decideWith());
    expect(scope.isDone()).toBe(true);
    expect(error).toBe("answer is not JSON: Sure! I would deploy the backend to staging first.");
  });

  it("names the allowed intents when the intent is unknown", async () => {
    const { scope } = mockChat({ body: completion({ content: answer({ intent: "deploy", reason: "x" }) }) });
    const error = errorOf(await decideWith());
    expect(scope.isDone()).toBe(true);
    expect(error).toContain("unknown intent");
    expect(error).toContain("deploy_backend, deploy_frontend, rollback, ask_human, done_for_now");
  });

  it("names the known components when the component is unknown", async () => {
    const { scope } = mockChat({
      body: completion({ content: answer({ ...deploy, intent: "deploy_database" }) }),
    });
    const error = errorOf(await decideWith());
    expect(scope.isDone()).toBe(true);
    expect(error).toBe('unknown component "database"; known: backend, frontend');
  });

  it("names the known environments when the environment is unknown", async () => {
    const { scope } = mockChat({ body: completion({ content: answer({ ...deploy, environment: "prod" }) }) });
    const error = errorOf(await decideWith());
    expect(scope.isDone()).toBe(true);
    expect(error).toBe('unknown environment "prod"; known: staging, production');
  });

  it("turns a server error into a compact error without a stack or the key", async () => {
    const { scope } = mockChat({
      status: 500,
      body: { error: { message: `upstream exploded for key ${API_KEY}`, type: "server_error" } },
    });
    const result = await decideWith();
    expect(scope.isDone()).toBe(true);
    const error = errorOf(result);
    expect(error).toMatch(/^model call failed: InternalServerError: 500 /);
    expect(error).not.toContain(API_KEY);
    expect(error).not.toMatch(/\n\s+at /);
    expect(result.meta).toMatchObject({ decider: "openai", tokens_in: null, tokens_out: null });
  });

  it("calls the configured OpenAI-compatible server", async () => {
    const { scope, sent } = mockChat(
      { body: completion({ content: answer({ intent: "done_for_now", message: "nothing left" }) }) },
      "http://llm.internal:8000",
      "/v1/chat/completions",
    );
    const result = await decideWith({ baseURL: "http://llm.internal:8000/v1" });
    expect(scope.isDone()).toBe(true);
    expect(sent).toHaveLength(1);
    expect(result).toMatchObject({ ok: true, step: { intent: "done_for_now", message: "nothing left" } });
  });
});
