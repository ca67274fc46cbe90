import { loadPrompts } from "../src/agent/prompts.js";
import { loadCases } from "../evals/lib/cases.js";
import { runSuite } from "../evals/lib/suite.js";

/** Tokens (o200k) per decision over the eval cases, as `npm run eval` counts them, rules decider. */

export interface ContextResult {
  tokens_per_decision_p50: number;
  naive_tokens_per_decision_p50: number;
  ratio: number;
}

export async function benchContext(): Promise<ContextResult> {
  const { summary } = await runSuite("rules", loadCases(), loadPrompts());
  return {
    tokens_per_decision_p50: summary.tokens.p50,
    naive_tokens_per_decision_p50: summary.tokens.naive_p50,
    ratio: summary.tokens.ratio_p50,
  };
}
