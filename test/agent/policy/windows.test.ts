import { describe, expect, it } from "vitest";
import { closedReason, nextOpening } from "../../../src/agent/policy/windows.js";
import type { FreezeSettings, WindowSettings } from "../../../src/config/deploy-safety.js";

const BERLIN_OFFICE: WindowSettings = {
  days: ["mon", "tue", "wed", "thu", "fri"],
  hours: "09:00-17:00",
  time_zone: "Europe/Berlin",
};

const YEAR_END: FreezeSettings = {
  from: "2026-12-20T00:00:00+01:00",
  to: "2027-01-04T09:00:00+01:00",
  reason: "Year-end freeze",
};

function place(windows?: WindowSettings[], freezes: FreezeSettings[] = []) {
  return { name: "production", windows, freezes };
}

const at = (iso: string) => new Date(iso);

describe("deploy windows", () => {
  it("leave an environment without windows or freezes always open", () => {
    expect(closedReason(place(), at("2026-02-07T03:00:00Z"))).toBeNull();
  });

  it("let a deploy start inside the window, in the window's time zone", () => {
    // Wednesday 10:00 in Berlin (CET, UTC+1).
    expect(closedReason(place([BERLIN_OFFICE]), at("2026-02-04T09:00:00Z"))).toBeNull();
  });

  it("close at the end of the hours, which is exclusive, until the next working day", () => {
    // Friday 17:00 in Berlin: closed until Monday 09:00 CET.
    const closed = closedReason(place([BERLIN_OFFICE]), at("2026-02-06T16:00:00Z"));
    expect(closed?.until).toEqual(at("2026-02-09T08:00:00Z"));
    expect(closed?.cause).toBe("window");
    expect(closed?.reason).toBe(
      "production is outside its deploy windows (mon, tue, wed, thu, fri 09:00-17:00 Europe/Berlin) until 9 Feb 09:00 CET",
    );
  });

  it("count a window that wraps midnight from the evening of its day to the next morning", () => {
    const night: WindowSettings = { days: ["fri"], hours: "22:00-06:00", time_zone: "UTC" };
    expect(closedReason(place([night]), at("2026-02-06T23:00:00Z"))).toBeNull(); // Friday night
    expect(closedReason(place([night]), at("2026-02-07T05:59:00Z"))).toBeNull(); // Saturday morning
    expect(closedReason(place([night]), at("2026-02-07T06:00:00Z"))?.until).toEqual(
      at("2026-02-13T22:00:00Z"),
    );
    // Friday early morning belongs to Thursday's night, which is not listed.
    expect(closedReason(place([night]), at("2026-02-06T01:00:00Z"))?.until).toEqual(
      at("2026-02-06T22:00:00Z"),
    );
  });

  it("open at 09:00 local time on the day the clocks go forward", () => {
    const everyDay: WindowSettings = { ...BERLIN_OFFICE, days: ["sun", "mon"] };
    // Saturday 28 March 2026 evening (CET); Sunday 29 March is in CEST (UTC+2): 09:00 is 07:00 UTC.
    expect(nextOpening(place([everyDay]), at("2026-03-28T16:30:00Z"))).toEqual(at("2026-03-29T07:00:00Z"));
    expect(closedReason(place([everyDay]), at("2026-03-29T06:59:00Z"))).not.toBeNull();
    expect(closedReason(place([everyDay]), at("2026-03-29T07:00:00Z"))).toBeNull();
  });

  it("open a window that starts in the skipped hour when the clock jumps past it", () => {
    const gap: WindowSettings = { days: ["sun"], hours: "02:30-04:00", time_zone: "Europe/Berlin" };
    // 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    expect(nextOpening(place([gap]), at("2026-03-28T12:00:00Z"))).toEqual(at("2026-03-29T01:00:00Z"));
    expect(closedReason(place([gap]), at("2026-03-29T01:00:00Z"))).toBeNull();
  });

  it("open a window whose start the clock shows twice at its first showing", () => {
    const repeated: WindowSettings = { days: ["sun"], hours: "02:30-02:45", time_zone: "Europe/Berlin" };
    // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 CEST is 00:30 UTC.
    expect(nextOpening(place([repeated]), at("2026-10-24T12:00:00Z"))).toEqual(at("2026-10-25T00:30:00Z"));
  });
});

describe("freezes", () => {
  it("close an environment from their start, inclusive, and say why and until when", () => {
    const closed = closedReason(place(undefined, [YEAR_END]), at("2026-12-19T23:00:00Z"));
    expect(closed).toEqual({
      cause: "freeze",
      until: at("2027-01-04T08:00:00Z"),
      reason: "production is frozen until 4 Jan 2027 08:00 UTC: Year-end freeze",
    });
  });

  it("end at their end, exclusive", () => {
    expect(closedReason(place(undefined, [YEAR_END]), at("2027-01-04T08:00:00Z"))).toBeNull();
    expect(closedReason(place(undefined, [YEAR_END]), at("2026-12-19T22:59:59Z"))).toBeNull();
  });

  it("tell times in the windows' time zone, without the year within the same year", () => {
    const closed = closedReason(place([BERLIN_OFFICE], [YEAR_END]), at("2027-01-02T10:00:00Z"));
    expect(closed?.reason).toBe("production is frozen until 4 Jan 09:00 CET: Year-end freeze");
  });

  it("reopen at the next window after the freeze when it ends outside the windows", () => {
    const weekend: FreezeSettings = {
      from: "2027-01-01T00:00:00+01:00",
      to: "2027-01-03T12:00:00+01:00", // a Sunday
      reason: "New Year",
    };
    const closed = closedReason(place([BERLIN_OFFICE], [weekend]), at("2027-01-01T10:00:00Z"));
    expect(closed?.until).toEqual(at("2027-01-04T08:00:00Z"));
  });

  it("chain into a freeze that starts as the previous one ends", () => {
    const first: FreezeSettings = { from: "2026-06-01T00:00:00Z", to: "2026-06-02T00:00:00Z", reason: "one" };
    const second: FreezeSettings = {
      from: "2026-06-02T00:00:00Z",
      to: "2026-06-03T00:00:00Z",
      reason: "two",
    };
    const closed = closedReason(place(undefined, [first, second]), at("2026-06-01T12:00:00Z"));
    expect(closed?.until).toEqual(at("2026-06-03T00:00:00Z"));
    expect(closed?.reason).toContain(": one");
  });

  it("say when no opening comes within the horizon", () => {
    const long: FreezeSettings = {
      from: "2026-01-01T00:00:00Z",
      to: "2028-06-01T00:00:00Z",
      reason: "sunset",
    };
    const closed = closedReason(place(undefined, [long]), at("2026-02-01T00:00:00Z"));
    expect(closed?.until).toBeNull();
    expect(closed?.reason).toBe("production is frozen with no opening within a year: sunset");
  });
});
