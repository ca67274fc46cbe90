import type { EnvironmentSettings } from "../../config/repo-config.js";
import { parseHours, type FreezeSettings, type WindowSettings } from "../../config/deploy-safety.js";
import { addDays, formatInstant, localTime, weekdayOf, zonedInstant } from "./zoned-time.js";

/**
 * Deploy windows and freezes: when an environment takes deploys. Pure: the time is passed in.
 * A window opens on each of its `days` at the start of `hours` (local time in its `time_zone`) and
 * closes at the end, exclusive; `22:00-06:00` opens on its day and closes the next morning. With
 * several windows, any open one lets a deploy start. A freeze closes the environment from `from`
 * (inclusive) to `to` (exclusive), whatever the windows say. Rollbacks are not held by either:
 * they restore service.
 */

/** How far ahead the next opening is looked for; beyond it, an environment counts as closed for good. */
export const OPENING_HORIZON_MS = 400 * 86_400_000;

export interface Closed {
  /** For people: "production is frozen until 4 Jan 09:00 CET: Year-end freeze". */
  reason: string;
  /** When deploys may next start (a freeze's end and the next window opening both counted); null: not within a year. */
  until: Date | null;
  /** What closes it now. */
  cause: "freeze" | "window";
}

type Place = Pick<EnvironmentSettings, "name" | "windows" | "freezes">;

function inWindow(window: WindowSettings, at: number): boolean {
  const hours = parseHours(window.hours);
  if (!hours) return false;
  const local = localTime(at, window.time_zone);
  const today = window.days.includes(local.weekday);
  if (hours.start < hours.end) return today && local.minutes >= hours.start && local.minutes < hours.end;
  // Wraps midnight: the evening of a listed day, or the morning after one.
  const yesterday = window.days.includes(weekdayOf(addDays(local, -1)));
  return (today && local.minutes >= hours.start) || (yesterday && local.minutes < hours.end);
}

/** The first window opening strictly after `at`, or null if a window has no valid hours. */
function nextWindowStart(window: WindowSettings, at: number): number | null {
  const hours = parseHours(window.hours);
  if (!hours) return null;
  const local = localTime(at, window.time_zone);
  for (let offset = -1; offset <= 8; offset++) {
    const date = addDays(local, offset);
    if (!window.days.includes(weekdayOf(date))) continue;
    const start = zonedInstant(date, hours.start, window.time_zone);
    if (start > at) return start;
  }
  return null;
}

function activeFreeze(freezes: readonly FreezeSettings[], at: number): FreezeSettings | null {
  return freezes.find((f) => Date.parse(f.from) <= at && at < Date.parse(f.to)) ?? null;
}

function windowOpen(place: Place, at: number): boolean {
  return !place.windows || place.windows.some((w) => inWindow(w, at));
}

/** The first instant at or after `at` when the environment takes deploys, within the horizon; null if none. */
export function nextOpening(place: Place, at: Date): Date | null {
  const opening = openingAfter(place, at.getTime());
  return opening === null ? null : new Date(opening);
}

function openingAfter(place: Place, at: number): number | null {
  let t = at;
  while (t <= at + OPENING_HORIZON_MS) {
    const freeze = activeFreeze(place.freezes, t);
    if (freeze) {
      t = Date.parse(freeze.to);
      continue;
    }
    if (windowOpen(place, t)) return t;
    const starts = (place.windows ?? [])
      .map((w) => nextWindowStart(w, t))
      .filter((s): s is number => s !== null);
    if (starts.length === 0) return null;
    t = Math.min(...starts);
  }
  return null;
}

/** The time zone to tell times in: the first window's, else UTC. */
export function displayZone(place: Pick<Place, "windows">): string {
  return place.windows?.[0]?.time_zone ?? "UTC";
}

function describeWindows(windows: readonly WindowSettings[]): string {
  return windows.map((w) => `${w.days.join(", ")} ${w.hours} ${w.time_zone}`).join("; ");
}

/** Why `place` takes no deploy at `now`, and until when; null when it is open. */
export function closedReason(place: Place, now: Date): Closed | null {
  const at = now.getTime();
  const freeze = activeFreeze(place.freezes, at);
  if (!freeze && windowOpen(place, at)) return null;
  const opening = openingAfter(place, at);
  const until = opening === null ? null : new Date(opening);
  const when = until
    ? `until ${formatInstant(until.getTime(), at, displayZone(place))}`
    : "with no opening within a year";
  if (freeze) {
    return { cause: "freeze", until, reason: `${place.name} is frozen ${when}: ${freeze.reason}` };
  }
  return {
    cause: "window",
    until,
    reason: `${place.name} is outside its deploy windows (${describeWindows(place.windows ?? [])}) ${when}`,
  };
}
