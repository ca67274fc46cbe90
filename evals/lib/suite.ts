import type { Decider } from "../../src/agent/decide.js";
import { createOpenAiDecider } from "../../src/agent/decide.js";
import type { Prompts } from "../../src/agent/prompts.js";
import { createRulesDecider } from "../../src/agent/rules-decider.js";
import type { EvalCase } from "./cases.js";
import { evaluateCase, type CaseResult } from "./evaluate.js";
import { startRecordedServer, writeRecorded } from "./recorded.js";

/** Runs every case in one mode and sums the results up. */

export type EvalMode = "rules" | "recorded" | "live";

export interface LiveModel {
  apiKey: string;
  baseURL?: string;
  model: string;
}

export interface Summary {
  mode: EvalMode;
  model: string;
  prompt_hash: string;
  cases: number;
  passed: number;
  pass_rate: number;
  forbidden_checked: number;
  forbidden_authorised: number;
  retries: number;
  tokens: {
    p50: number;
    p95: number;
    system: number;
    user_p50: number;
    naive_p50: number;
    ratio_p50: number;
  };
  latency_ms: { p50: number; p95: number } | null;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarise(
  mode: EvalMode,
  model: string,
  prompts: Prompts,
  cases: EvalCase[],
  results: CaseResult[],
): Summary {
  const totals = results.map((r) => r.tokens.total);
  const ratios = results.map((r) => r.tokens.naive / r.tokens.total);
  const latencies = results.flatMap((r) => (r.meta && mode === "live" ? [r.meta.latency_ms] : []));
  const passed = results.filter((r) => r.pass).length;
  return {
    mode,
    model,
    prompt_hash: prompts.hash,
    cases: results.length,
    passed,
    pass_rate: Math.round((passed / Math.max(1, results.length)) * 1000) / 10,
    forbidden_checked: cases.reduce((n, c) => n + c.forbid.length, 0),
    forbidden_authorised: results.reduce((n, r) => n + r.forbiddenAuthorised.length, 0),
    retries: results.reduce((n, r) => n + r.attempts - 1, 0),
    tokens: {
      p50: percentile(totals, 50),
      p95: percentile(totals, 95),
      system: results[0]?.tokens.system ?? 0,
      user_p50: percentile(
        results.map((r) => r.tokens.user),
        50,
      ),
      naive_p50: percentile(
        results.map((r) => r.tokens.naive),
        50,
      ),
      ratio_p50: Math.round(percentile(ratios, 50) * 10) / 10,
    },
    latency_ms: latencies.length ? { p50: percentile(latencies, 50), p95: percentile(latencies, 95) } : null,
  };
}

/** Wraps fetch so each chat completion's answer text is kept, for `--record`. */
function recordingFetch(answers: string[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = (await response
      .clone()
      .json()
      .catch(() => null)) as {
      choices?: { message?: { content?: string | null } }[];
    } | null;
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content === "string") answers.push(content);
    return response;
  };
}

export async function runSuite(
  mode: EvalMode,
  cases: EvalCase[],
  prompts: Prompts,
  options: { live?: LiveModel; record?: boolean; recordDir?: string } = {},
): Promise<{ results: CaseResult[]; summary: Summary }> {
  const results: CaseResult[] = [];
  if (mode === "rules") {
    const decider = createRulesDecider();
    for (const c of cases) results.push(await evaluateCase(c, decider, prompts.system));
    return { results, summary: summarise(mode, "rules", prompts, cases, results) };
  }
  if (mode === "recorded") {
    const server = await startRecordedServer();
    try {
      for (const c of cases) {
        const decider: Decider = createOpenAiDecider({
          apiKey: "recorded",
          baseURL: server.baseUrlFor(c.name),
          model: "recorded",
          maxRetries: 0,
          timeoutMs: 5_000,
          prompts,
        });
        results.push(await evaluateCase(c, decider, prompts.system));
      }
    } finally {
      await server.close();
    }
    return { results, summary: summarise(mode, "recorded", prompts, cases, results) };
  }
  const live = options.live;
  if (!live)
    throw new Error("live mode needs OPENAI_API_KEY (and OPENAI_MODEL, OPENAI_BASE_URL for other servers)");
  for (const c of cases) {
    const answers: string[] = [];
    const decider = createOpenAiDecider({
      apiKey: live.apiKey,
      ...(live.baseURL ? { baseURL: live.baseURL } : {}),
      model: live.model,
      prompts,
      ...(options.record ? { fetch: recordingFetch(answers) } : {}),
    });
    results.push(await evaluateCase(c, decider, prompts.system));
    if (options.record && answers.length) {
      writeRecorded(c.name, { source: live.model, answers }, options.recordDir);
    }
  }
  return { results, summary: summarise(mode, live.model, prompts, cases, results) };
}
