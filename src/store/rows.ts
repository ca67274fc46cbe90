import { validateNewEvent, type NewEvent, type ThreadEvent } from "../thread/events.js";

/** What both store implementations do the same way to the values they write. */

const MAX_TEXT = 1000;

/** Inbox notes and errors are kept short. */
export const truncate = (s: string | null): string | null => (s === null ? null : s.slice(0, MAX_TEXT));

/** Validates new events and numbers them from `firstSeq`, all stamped with one time. */
export function stamp(events: NewEvent[], firstSeq: number, at: string): ThreadEvent[] {
  return events.map((e, i) => ({ ...validateNewEvent(e), seq: firstSeq + i, at }) as ThreadEvent);
}

/** The caller's events count only when they are exactly the stored ones up to `expectedSeq`. */
export function usablePrior(
  prior: readonly ThreadEvent[] | undefined,
  expectedSeq: number,
): readonly ThreadEvent[] | null {
  if (!prior) return null;
  const last = prior.at(-1)?.seq ?? 0;
  return last === expectedSeq && prior.length === expectedSeq ? prior : null;
}
