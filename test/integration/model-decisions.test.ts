import nock from "nock";
import { describe, expect, it } from "vitest";
import { createOpenAiDecider } from "../../src/agent/decide.js";
import { loadPrompts } from "../../src/agent/prompts.js";
import { threadIdForMerge } from "../../src/pipeline/ingest.js";
import { deriveState } from "../../src/thread/state.js";
import { MERGE_SHA, mergedPullRequest, OWNER, REPO } from "../helpers/fixtures.js";
import { mockCreateDeployment, mockDispatch, mockMergeContext } from "../helpers/github-mocks.js";
import { createHarness } from "../helpers/harness.js";

/** The model's answers, through the OpenAI decider and a mocked Chat Completions endpoint. */

const LLM = "http://llm.internal:8000";
const THREAD_ID = threadIdForMerge(`${OWNER}/${REPO}`, 7, MERGE_SHA);
const API_KEY = "sk-live-do-not-log-0123456789";

function decider() {
  return createOpenAiDecider({
    apiKey: API_KEY,
    baseURL: `${LLM}/v1`,
    model: "qwen2.5-coder",
    maxRetries: 0,
    timeoutMs: 5_000,
    prompts: loadPrompts(),
  });
}

function answer(content: string | null, refusal: string | null = null) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1_764_000_000,
    model: "qwen2.5-coder",
    choices: [
      { index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content, refusal } },
    ],
    usage: { prompt_tokens: 900, completion_tokens: 30, total_tokens: 930 },
  };
}

function mockModel(...contents: (string | { refusal: string })[]) {
  const prompts: string[] = [];
  const scope = nock(LLM);
  for (const content of contents) {
    scope
      .post("/v1/chat/completions", (body: { messages: { content: string }[] }) => {
        prompts.push(body.messages.map((m) => m.content).join("\n"));
        return true;
      })
      .reply(200, typeof content === "string" ? answer(content) : answer(null, content.refusal));
  }
  return { scope, prompts };
}

function mergeMocks() {
  return [...mockMergeContext()];
}

const nullFields = {
  environment: null,
  sha: null,
  component: null,
  to_sha: null,
  question: null,
  message: null,
};

describe("the model choosing the next step", () => {
  it("never deploys after three bad answers in a row and waits for a human instead", async () => {
    const harness = await createHarness({ decider: decider() });
    const github = mergeMocks();
    const model = mockModel(
      "I think you should deploy the backend!",
      JSON.stringify({
        ...nullFields,
        intent: "deploy_database",
        environment: "staging",
        sha: MERGE_SHA,
        reason: "r",
      }),
      { refusal: "I can't help with deployments." },
    );

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...github, model.scope]) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    const errors = thread.events.filter((e) => e.type === "decision_error").map((e) => e.data.error);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain("not JSON");
    expect(errors[1]).toContain(`unknown component "database"`);
    expect(errors[2]).toContain("refused");
    expect(thread.events.some((e) => e.type === "deploy_authorized")).toBe(false);
    expect(deriveState(thread.events).status).toBe("waiting_for_human");
    expect(harness.log.lines.some((l) => l.startsWith("warn thread needs a human"))).toBe(true);
    // The second and third questions carry the previous error back to the model.
    expect(model.prompts[1]).toContain("not JSON");
  });

  it("refuses production straight after the merge, tells the model why, and deploys staging when asked again", async () => {
    const harness = await createHarness({ decider: decider() });
    const github = [
      ...mergeMocks(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    const model = mockModel(
      JSON.stringify({
        ...nullFields,
        intent: "deploy_backend",
        environment: "production",
        sha: MERGE_SHA,
        reason: "ship it",
      }),
      JSON.stringify({
        ...nullFields,
        intent: "deploy_backend",
        environment: "staging",
        sha: MERGE_SHA,
        reason: "staging first",
      }),
    );

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...github, model.scope]) expect(scope.isDone()).toBe(true);
    const thread = (await harness.store.getThread(THREAD_ID))!;
    const refusal = thread.events.find((e) => e.type === "policy_refused");
    expect(refusal?.data.reason).toContain("has not succeeded in staging");
    expect(model.prompts[1]).toContain("has not succeeded in staging");
    const decision = thread.events.find((e) => e.type === "decision");
    expect(decision?.data).toMatchObject({
      decider: "openai",
      model: "qwen2.5-coder",
      tokens_in: 900,
      tokens_out: 30,
    });
    expect(decision?.data.prompt_hash).toMatch(/^[0-9a-f]{12}$/);
    expect(deriveState(thread.events).status).toBe("waiting_for_deploy");
  });

  it("keeps the API key and raw payloads out of what the model sees and what is logged", async () => {
    const harness = await createHarness({ decider: decider() });
    const github = [
      ...mergeMocks(),
      mockCreateDeployment(1001, { sha: MERGE_SHA, environment: "staging" }),
      mockDispatch("deploy-backend.yml", 5001),
    ];
    const model = mockModel(
      JSON.stringify({
        ...nullFields,
        intent: "deploy_backend",
        environment: "staging",
        sha: MERGE_SHA,
        reason: "go",
      }),
    );

    await harness.deliver("pull_request", mergedPullRequest());

    for (const scope of [...github, model.scope]) expect(scope.isDone()).toBe(true);
    expect(model.prompts[0]).not.toContain(API_KEY);
    expect(model.prompts[0]).not.toContain('"node_id"'); // no raw webhook JSON
    expect(model.prompts[0]).toContain("Speed up the checkout API");
    expect(harness.log.lines.join("\n")).not.toContain(API_KEY);
  });
});
