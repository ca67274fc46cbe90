import { WEEKDAYS, type Weekday } from "../../config/deploy-safety.js";

/**
 * Wall-clock time in a named time zone, with Intl alone: what a clock in that zone shows at an
 * instant, and the instant a clock there first shows a given local time (DST gaps and repeats
 * included).
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A local calendar date; `month` 1-12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface LocalTime extends LocalDate {
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** What a clock in `timeZone` shows at `instant` (to the minute). */
export function localTime(instant: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const date = { year: parts.year!, month: parts.month!, day: parts.day! };
  return { ...date, weekday: weekdayOf(date), minutes: parts.hour! * 60 + parts.minute! };
}

export function weekdayOf(date: LocalDate): Weekday {
  return WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()]!;
}

/** The local date `days` after `date` (negative: before). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day) + days * DAY);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** Local date and minutes as one comparable number (minutes since the epoch, as if in UTC). */
function wallMinutes(date: LocalDate, minutes: number): number {
  return Date.UTC(date.year, date.month - 1, date.day) / MINUTE + minutes;
}

function wallOf(instant: number, timeZone: string): number {
  const local = localTime(instant, timeZone);
  return wallMinutes(local, local.minutes);
}

/**
 * The first instant at which a clock in `timeZone` shows `minutes` past midnight of `date` or
 * later. A time the clock skips (spring forward) opens when the clock jumps past it; a time it
 * shows twice (fall back) opens at its first showing.
 */
export function zonedInstant(date: LocalDate, minutes: number, timeZone: string): number {
  const target = wallMinutes(date, minutes);
  const naive = target * MINUTE; // the instant if the zone were UTC
  // Real zones change their offset at most once within a day on either side of a local time.
  const offsets = [naive - DAY, naive + DAY].map((at) => wallOf(at, timeZone) * MINUTE - at);
  const candidates = [...new Set(offsets.map((offset) => naive - offset))].sort((a, b) => a - b);
  const exact = candidates.find((at) => wallOf(at, timeZone) === target);
  if (exact !== undefined) return exact;
  // A skipped time: the first minute after the earliest candidate whose clock reads target or later.
  let low = candidates[0]!;
  let high = candidates[candidates.length - 1]!;
  while (high - low > MINUTE) {
    const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
    if (wallOf(middle, timeZone) >= target) high = middle;
    else low = middle;
  }
  return high;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const zoneNames = new Map<string, Intl.DateTimeFormat>();

/** The zone's short name at an instant, as British English writes it: "CET", "CEST", "UTC". */
function zoneName(instant: number, timeZone: string): string {
  let format = zoneNames.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "short" });
    zoneNames.set(timeZone, format);
  }
  return format.formatToParts(new Date(instant)).find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

/**
 * An instant for people, in `timeZone`: "14:32 UTC" on the same local day as `now`,
 * "4 Jan 09:00 CET" within the year, "4 Jan 2027 09:00 CET" beyond.
 */
export function formatInstant(instant: number, now: number, timeZone: string): string {
  const at = localTime(instant, timeZone);
  const today = localTime(now, timeZone);
  const clock = `${String(Math.floor(at.minutes / 60)).padStart(2, "0")}:${String(at.minutes % 60).padStart(2, "0")}`;
  const zone = zoneName(instant, timeZone);
  const sameDay = at.year === today.year && at.month === today.month && at.day === today.day;
  if (sameDay) return `${clock} ${zone}`;
  const year = at.year === today.year ? "" : ` ${at.year}`;
  return `${at.day} ${MONTHS[at.month - 1]}${year} ${clock} ${zone}`;
}
