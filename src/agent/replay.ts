import { configOf } from "../thread/state.js";
import type { Thread } from "../thread/events.js";
import type { Decider } from "./decide.js";
import { deployActionOf, type NextStep } from "../thread/next-step.js";
import { judge, type Verdict } from "./policy.js";
import { factsFromEvents } from "./policy-facts.js";
import { clip, short } from "../thread/text.js";

/**
 * Replay: every decision point of a stored thread decided again with the current prompt and
 * decider, from exactly the events that were known then, and judged by the current policy on the
 * facts those events hold. This is how a team checks a new prompt or model before switching.
 */

export interface ReplayedDecision {
  seq: number;
  /** What was recorded then: a step, or the error of an unusable answer. */
  recorded: { step: NextStep } | { error: string };
  /** What the current decider answers now. */
  now: { step: NextStep } | { error: string };
  same: boolean;
  /** The current policy's verdict on the new step (on the facts in the events; no lookups). */
  verdict: { kind: Verdict["kind"]; reason: string | null } | null;
}

/** Two steps ask for the same thing: same intent, place and commit (their wording may differ). */
export function sameStep(a: NextStep, b: NextStep): boolean {
  if (a.intent !== b.intent) return false;
  const x = deployActionOf(a);
  const y = deployActionOf(b);
  if (!x || !y) return true;
  return x.component === y.component && x.environment === y.environment && x.sha === y.sha;
}

export function describeStep(step: NextStep): string {
  const action = deployActionOf(step);
  if (action) return `${action.kind} ${action.component} ${short(action.sha)} to ${action.environment}`;
  if (step.intent === "ask_human" && "question" in step) return `ask_human "${clip(step.question, 80)}"`;
  if (step.intent === "done_for_now" && "message" in step) return `done_for_now "${clip(step.message, 80)}"`;
  return step.intent;
}

export async function replayThread(thread: Thread, decider: Decider): Promise<ReplayedDecision[]> {
  const replayed: ReplayedDecision[] = [];
  for (const [index, event] of thread.events.entries()) {
    if (event.type !== "decision" && event.type !== "decision_error") continue;
    const before: Thread = { ...thread, events: thread.events.slice(0, index) };
    const config = configOf(before.events);
    if (!config) continue;
    const recorded: ReplayedDecision["recorded"] =
      event.type === "decision" ? { step: event.data.step } : { error: event.data.error };
    const result = await decider.decide({ thread: before, config });
    if (!result.ok) {
      replayed.push({
        seq: event.seq,
        recorded,
        now: { error: result.error },
        same: "error" in recorded,
        verdict: null,
      });
      continue;
    }
    const verdict = judge(result.step, factsFromEvents(before, result.step, false));
    replayed.push({
      seq: event.seq,
      recorded,
      now: { step: result.step },
      same: "step" in recorded ? sameStep(recorded.step, result.step) : false,
      verdict: { kind: verdict.kind, reason: verdict.kind === "allow" ? null : verdict.reason },
    });
  }
  return replayed;
}

/** `7d`, `12h`, `30m` as milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  if (!match) throw new Error(`--since expects a duration such as 30m, 12h or 7d, not "${text}"`);
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "m" | "h" | "d"];
}
