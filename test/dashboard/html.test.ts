import { describe, expect, it } from "vitest";
import { link, relativeTime, safeHref, timeTag } from "../../src/http/dashboard-html.js";

const NOW = new Date("2026-11-24T12:00:00Z");

describe("times in the viewer's terms", () => {
  it("says how long ago, in minutes, hours or days", () => {
    expect(relativeTime("2026-11-24T11:59:50Z", NOW)).toBe("just now");
    expect(relativeTime("2026-11-24T11:57:00Z", NOW)).toBe("3 min ago");
    expect(relativeTime("2026-11-24T09:00:00Z", NOW)).toBe("3 h ago");
    expect(relativeTime("2026-11-20T12:00:00Z", NOW)).toBe("4 days ago");
    expect(relativeTime("2026-11-25T12:00:00Z", NOW)).toBe("in 24 h");
  });

  it("keeps the exact UTC time for the hover", () => {
    expect(timeTag("2026-11-24T11:57:00Z", NOW)).toBe(
      '<time datetime="2026-11-24T11:57:00.000Z" title="2026-11-24 11:57:00 UTC">3 min ago</time>',
    );
    expect(timeTag("not a time", NOW)).toBe("");
  });
});

describe("links from outside values", () => {
  it("keep http(s) addresses and drop javascript:, data: and quoted ones", () => {
    expect(safeHref("https://github.com/acme/shop/pull/7")).toBe("https://github.com/acme/shop/pull/7");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,x")).toBeNull();
    expect(safeHref('https://x.test/"onmouseover="alert(1)')).toBeNull();
    expect(link("javascript:alert(1)", "<b>run</b>")).toBe("&lt;b&gt;run&lt;/b&gt;");
  });
});
