import { validateNewEvent, type NewEvent, type ThreadEvent } from "../thread/events.js";

/** What both store implementations do the same way to the values they write. */

const MAX_TEXT = 1000;

/** Inbox notes and errors are kept short. */
export const truncate = (s: string | null): string | null => (s === null ? null : s.slice(0, MAX_TEXT));

/** Validates new events and numbers them from `firstSeq`, all stamped with one time. */
export function stamp(events: NewEvent[], firstSeq: number, at: string): ThreadEvent[] {
  return events.map((e, i) => ({ ...validateNewEvent(e), seq: firstSeq + i, at }) as ThreadEvent);
}
