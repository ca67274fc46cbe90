import { describe, expect, it } from "vitest";
import { decodePathSegment, HttpError, jsonDepthExceeds } from "../../src/http/body.js";

describe("the nesting depth of JSON text", () => {
  it("counts objects and arrays, not brackets inside strings", () => {
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 2)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ title: "[[[[[[{{{{{{" }), 1)).toBe(false);
  });

  it("is not fooled by escaped quotes inside strings", () => {
    expect(jsonDepthExceeds(JSON.stringify({ title: 'say \\"[[[[[" and \\\\' }), 1)).toBe(false);
  });

  it("finds 10,000 levels without recursion", () => {
    expect(jsonDepthExceeds(`${"[".repeat(10_000)}${"]".repeat(10_000)}`, 64)).toBe(true);
  });
});

describe("a percent-encoded path segment", () => {
  it("is decoded", () => {
    expect(decodePathSegment("th_%61bc")).toBe("th_abc");
  });

  it("is a 400 that names it when an escape is malformed", () => {
    expect(() => decodePathSegment("%E0%A4%A")).toThrow(
      new HttpError(400, "malformed percent-encoding in the path: %E0%A4%A"),
    );
  });
});
