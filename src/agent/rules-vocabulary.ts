import { truncate } from "../thread/text.js";
import { type DeployAction } from "../thread/next-step.js";

/** The rules decider's vocabulary: the words it recognises in humans' text and the raw steps it proposes. */

/** The proposed step as raw JSON, before validation. */
export type RawStep = Record<string, string>;

export const RETRY = /\b(retry|try again|again|re-?run|redeploy|go ahead|proceed)\b/i;
export const STOP = /\b(stop|cancel|abort|leave it|don'?t|do not|no\b|halt|skip)/i;
export const ROLLBACK = /\broll\s*-?\s*back\b|\brevert\b/i;
export const DEPLOY = /\b(deploy|ship|release|promote|push)\b/i;
export const FIRST = /\b(first|before)\b/i;

export const done = (message: string): RawStep => ({
  intent: "done_for_now",
  message: truncate(message, 1_000),
});
export const ask = (question: string, reason: string): RawStep => ({
  intent: "ask_human",
  question: truncate(question, 1_000),
  reason,
});
export const deploy = (
  action: Pick<DeployAction, "component" | "environment" | "sha">,
  reason: string,
): RawStep => ({
  intent: `deploy_${action.component}`,
  environment: action.environment,
  sha: action.sha,
  reason,
});

/** The first of `names` that the text mentions as a word. */
export function mentioned(text: string, names: string[]): string | undefined {
  const words = new Set(text.toLowerCase().split(/[^a-z0-9_-]+/));
  return names.find((name) => words.has(name.toLowerCase()));
}
