import type { EnvironmentSettings, RepoConfig } from "../../config/repo-config.js";
import type { DecisionChannel } from "../../thread/events.js";
import { personOf, personOfEntry } from "../../thread/identity.js";

/**
 * Break-glass: a person listed in an environment's `break_glass` may run a step without its
 * approval, deploy windows, freezes and bake, by declaring it with a reason. It never lifts the
 * other rules (merged commit, promotion order, CI, downgrade, locks, verification). Pure.
 */

/** A step's declared break-glass: who, why, and through which channel they asked. */
export interface BreakGlass {
  /** The Slack user id, the GitHub login or the API client's token name. */
  by: string;
  reason: string;
  channel: DecisionChannel;
}

export type BreakGlassVerdict = { ok: true } | { ok: false; reason: string };

/** Whether this declaration may break glass in `environment`. */
export function breakGlassVerdict(
  config: RepoConfig,
  environment: Pick<EnvironmentSettings, "name" | "break_glass">,
  declared: BreakGlass,
): BreakGlassVerdict {
  if (declared.reason.trim() === "") {
    return {
      ok: false,
      reason: `break-glass needs a reason: say why ${environment.name} cannot wait (e.g. --break-glass "checkout is down")`,
    };
  }
  const declarer = personOf(config, declared);
  const listed = environment.break_glass.some((entry) => personOfEntry(config, entry) === declarer);
  if (!listed) {
    const who = environment.break_glass.length > 0 ? environment.break_glass.join(", ") : "nobody is listed";
    return {
      ok: false,
      reason: `${declared.by} may not break glass in ${environment.name} (break_glass: ${who})`,
    };
  }
  return { ok: true };
}
