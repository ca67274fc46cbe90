import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import type { RepoConfig } from "../config/repo-config.js";
import type { DecisionMeta, Thread } from "../thread/events.js";
import { renderContext } from "./context.js";
import { truncate } from "../thread/text.js";
import { resolveCommit } from "../thread/versions.js";
import { parseNextStep, type CommitResolver, type NextStep } from "../thread/next-step.js";

/**
 * The decision: one question ("what is the next step?") and one small JSON answer, parsed and
 * checked against the repository's names. A decider never throws: a failed call or an unusable
 * answer is a compact error the loop records and shows to the next decision.
 */

export interface DecisionRequest {
  thread: Thread;
  config: RepoConfig;
}

export type DecisionMetaData = z.infer<typeof DecisionMeta>;

export type DecisionResult =
  { ok: true; step: NextStep; meta: DecisionMetaData } | { ok: false; error: string; meta: DecisionMetaData };

export interface Decider {
  readonly name: "openai" | "rules";
  decide(request: DecisionRequest): Promise<DecisionResult>;
}

/** The names a step may use, from the repository's config. */
export function knownNames(config: RepoConfig): { components: string[]; environments: string[] } {
  return {
    components: Object.keys(config.components),
    environments: config.environments.map((e) => e.name),
  };
}

/**
 * The answer as the model fills it, narrowed to one repository. Structured outputs need an object
 * root with every field required, so the four step shapes are flattened here and the fields a shape
 * does not use are null. Intents, components and environments are enums of the config's names; a
 * commit is a label the context defines (`merge`, `tip`, `previous`) or a full SHA, resolved by code.
 */
export function modelAnswerSchema(config: RepoConfig) {
  const { components, environments } = knownNames(config);
  const intents = [...components.map((c) => `deploy_${c}`), "rollback", "ask_human", "done_for_now"];
  const commit = "label merge, tip or previous, or 40 hex characters";
  return z.object({
    intent: z.enum(intents as [string, ...string[]]),
    environment: z
      .enum(environments as [string, ...string[]])
      .nullable()
      .describe("deploy_<component> and rollback"),
    sha: z.string().nullable().describe(`deploy_<component>: the commit, ${commit}`),
    component: z
      .enum(components as [string, ...string[]])
      .nullable()
      .describe("rollback"),
    to_sha: z.string().nullable().describe(`rollback: the commit, ${commit}`),
    question: z.string().nullable().describe("ask_human"),
    message: z.string().nullable().describe("done_for_now"),
    reason: z.string().nullable().describe("all but done_for_now"),
  });
}

/** The resolver of commit labels and short SHAs for one thread. */
export function commitResolverOf(thread: Thread): CommitResolver {
  return (value, place) => resolveCommit(value, thread.events, place);
}

export interface OpenAiDeciderOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs?: number;
  maxRetries?: number;
  prompts: { system: string; hash: string };
  clock?: () => number;
  /** The HTTP client for the model's server (default: the global fetch); metrics count its errors, evals record its answers. */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

/** Strips a Markdown code fence some OpenAI-compatible servers wrap JSON in. */
function unfenced(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(content);
  return fenced ? fenced[1]! : content;
}

/** Fields the chosen shape does not use come back null (or empty from lenient servers); drop them. */
function withoutEmptyFields(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null && value !== ""));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function createOpenAiDecider(options: OpenAiDeciderOptions): Decider {
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const clock = options.clock ?? Date.now;

  /** Never lets the key out, even if a server echoes it back in an error. */
  const redact = (text: string) =>
    options.apiKey.length >= 4 ? text.split(options.apiKey).join("[redacted]") : text;

  return {
    name: "openai",
    async decide({ thread, config }: DecisionRequest): Promise<DecisionResult> {
      const started = clock();
      const meta = (
        usage?: { prompt_tokens?: number; completion_tokens?: number } | null,
      ): DecisionMetaData => ({
        decider: "openai",
        model: options.model,
        prompt_hash: options.prompts.hash,
        tokens_in: usage?.prompt_tokens ?? null,
        tokens_out: usage?.completion_tokens ?? null,
        latency_ms: Math.max(0, Math.round(clock() - started)),
      });
      const fail = (error: string, usage?: Parameters<typeof meta>[0]): DecisionResult => ({
        ok: false,
        error: redact(error),
        meta: meta(usage),
      });

      let completion: OpenAI.Chat.Completions.ChatCompletion;
      try {
        completion = await client.chat.completions.create({
          model: options.model,
          messages: [
            { role: "system", content: options.prompts.system },
            { role: "user", content: renderContext(thread, config) },
          ],
          response_format: zodResponseFormat(modelAnswerSchema(config), "next_step"),
          temperature: 0,
        });
      } catch (error) {
        const kind = error instanceof Error ? error.constructor.name : typeof error;
        const message = error instanceof Error ? error.message : String(error);
        return fail(`model call failed: ${kind}: ${truncate(oneLine(message), 200)}`);
      }

      const usage = completion.usage ?? null;
      const choice = completion.choices?.[0];
      if (!choice) return fail("model returned no answer (no choices)", usage);
      const { message, finish_reason: finishReason } = choice;
      if (message.refusal) return fail(`model refused: ${truncate(oneLine(message.refusal), 200)}`, usage);
      if (finishReason === "length")
        return fail("model answer was cut off at the token limit (finish_reason length)", usage);
      if (finishReason === "content_filter")
        return fail("model answer was withheld by the content filter", usage);
      const content = message.content ?? "";
      if (content.trim() === "") return fail("model returned an empty answer", usage);

      let raw: unknown;
      try {
        raw = JSON.parse(unfenced(content));
      } catch {
        // The parse error itself says less than the start of what came back.
        return fail(`answer is not JSON: ${truncate(oneLine(content), 80)}`, usage);
      }
      const parsed = parseNextStep(withoutEmptyFields(raw), knownNames(config), commitResolverOf(thread));
      if (!parsed.ok) return fail(parsed.error, usage);
      return { ok: true, step: parsed.step, meta: meta(usage) };
    },
  };
}
