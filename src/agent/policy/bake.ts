import type { EnvironmentSettings } from "../../config/repo-config.js";
import { clip, short } from "../../thread/text.js";
import { displayZone } from "./windows.js";
import { formatInstant } from "./zoned-time.js";

/**
 * Bake time and verification: whether what succeeded in one environment may be promoted to the
 * next. `bake` makes promotion wait that long after the success; `verify` names a workflow whose
 * success is required first. Pure: the time is passed in.
 */

/** The verification of a deploy, as the thread records it; null: not dispatched yet. */
export interface VerificationFact {
  conclusion: "pending" | "success" | "failure";
  url?: string | null;
  summary?: string | null;
}

export type PromotionReadiness =
  | { kind: "ready" }
  | { kind: "baking"; until: Date; reason: string }
  | { kind: "verifying"; reason: string }
  | { kind: "verification_failed"; reason: string };

export function promotionReadiness(input: {
  /** The environment the commit succeeded in (the one before the step's). */
  from: Pick<EnvironmentSettings, "name" | "bake" | "verify" | "windows">;
  component: string;
  sha: string;
  /**
   * When this thread's deploy to `from` succeeded; null when it did not deploy it there (counted as
   * baked, and its verification as not this thread's to wait for).
   */
  succeededAt: Date | null;
  verification: VerificationFact | null;
  now: Date;
  /** Break-glass skips the bake, never the verification. */
  skipBake?: boolean;
}): PromotionReadiness {
  const { from, component, sha, verification } = input;
  const what = `${component} ${short(sha)} in ${from.name}`;
  if (from.verify) {
    if (verification?.conclusion === "failure") {
      const summary = verification.summary ? `: ${clip(verification.summary, 200)}` : "";
      const url = verification.url ? ` (${verification.url})` : "";
      return {
        kind: "verification_failed",
        reason: `the verification (${from.verify}) of ${what} failed${summary}${url}; it is not promoted, roll it back or fix it`,
      };
    }
  }
  if (from.bake !== undefined && input.succeededAt && !input.skipBake) {
    const until = input.succeededAt.getTime() + from.bake;
    if (until > input.now.getTime()) {
      const when = formatInstant(until, input.now.getTime(), displayZone(from));
      return { kind: "baking", until: new Date(until), reason: `${from.name} is baking until ${when}` };
    }
  }
  // A commit this thread did not deploy to `from` (another thread or tool did) has no verification
  // here to wait for: the thread that deployed it ran it, and the promotion order is judged apart.
  const verifiedHere = verification !== null || input.succeededAt !== null;
  if (from.verify && verifiedHere && verification?.conclusion !== "success") {
    const state = verification ? "has not finished" : "has not started";
    return {
      kind: "verifying",
      reason: `the verification (${from.verify}) of ${what} ${state}; promotion waits for its success`,
    };
  }
  return { kind: "ready" };
}
