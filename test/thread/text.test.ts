import { describe, expect, it } from "vitest";
import { clip, oneLine, repoRefOf, short, truncate } from "../../src/thread/text.js";

describe("truncate", () => {
  it("leaves short text alone and marks a cut within the bound", () => {
    expect(truncate("short", 10)).toBe("short");
    const cut = truncate("x".repeat(50), 20);
    expect(cut).toHaveLength(20);
    expect(cut.endsWith("…[cut]")).toBe(true);
  });

  it("never splits a surrogate pair", () => {
    const cut = truncate(`${"a".repeat(13)}😀😀😀😀`, 20);
    expect(cut).toBe(`${"a".repeat(13)}…[cut]`);
  });

  it("ends a cut with the mark it is given", () => {
    expect(truncate("a title that is too long", 10, "…")).toBe("a title t…");
  });
});

describe("clip", () => {
  it("keeps the first characters up to the bound, without a mark", () => {
    expect(clip("abcdef", 3)).toBe("abc");
    expect(clip("abc", 3)).toBe("abc");
  });

  it("drops half a surrogate pair at the bound", () => {
    expect(clip("ab😀", 3)).toBe("ab");
  });
});

describe("oneLine", () => {
  it("folds newlines and runs of spaces into one space", () => {
    expect(oneLine("  a\n\n b\tc ")).toBe("a b c");
  });
});

describe("short", () => {
  it("names a commit by its first seven hex digits", () => {
    expect(short("0123456789abcdef0123456789abcdef01234567")).toBe("0123456");
  });
});

describe("repoRefOf", () => {
  it("splits owner/name into octokit's parameters", () => {
    expect(repoRefOf("acme/shop")).toEqual({ owner: "acme", repo: "shop" });
  });

  it("leaves the name empty when there is no slash", () => {
    expect(repoRefOf("acme")).toEqual({ owner: "acme", repo: "" });
  });
});
