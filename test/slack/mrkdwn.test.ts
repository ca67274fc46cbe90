import { describe, expect, it } from "vitest";
import { cut, escapeMrkdwn } from "../../src/slack/mrkdwn.js";

describe("escaping and cutting text", () => {
  it("escapes the three characters Slack treats as markup", () => {
    expect(escapeMrkdwn("a & <b> <!channel>")).toBe("a &amp; &lt;b&gt; &lt;!channel&gt;");
  });

  it("leaves text that fits untouched", () => {
    expect(cut("short", 10)).toBe("short");
  });

  it("ends a cut text with a link to the rest when one is given", () => {
    const result = cut("x".repeat(500), 100, "https://github.com/acme/shop/pull/42");
    expect(result.length).toBeLessThanOrEqual(100);
    expect(result.endsWith("… <https://github.com/acme/shop/pull/42|more>")).toBe(true);
  });

  it("never leaves half an escape or half a link behind", () => {
    expect(cut(`${"a".repeat(8)}&amp;tail`, 11)).toBe(`${"a".repeat(8)}…`);
    expect(cut(`abc <https://example.com/a/very/long/path|label> tail`, 20)).toBe("abc …");
  });
});
