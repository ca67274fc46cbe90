import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/http/thread-markdown.js";
import { deployRun, deployStep, mergeStart, on, threadWith } from "../helpers/thread-builder.js";

describe("the markdown summary", () => {
  it("has a title, the derived status and one bullet per event", () => {
    const step = deployStep("backend", "production");
    const thread = threadWith([
      ...mergeStart(),
      ...deployRun("backend", "staging"),
      on.approvalRequested(step),
    ]);
    const markdown = renderMarkdown(thread);
    expect(markdown.split("\n")[0]).toBe("### deploybot: acme/shop #7 (`0123456`)");
    expect(markdown).toContain("**Status:** waiting for approval");
    expect(markdown.split("\n").filter((line) => line.startsWith("- "))).toHaveLength(thread.events.length);
  });

  it("cannot mention people from untrusted text", () => {
    const markdown = renderMarkdown(threadWith([on.prMerged({ title: "ping @acme/everyone <!channel>" })]));
    expect(markdown).not.toContain("@acme");
    expect(markdown).not.toContain("<!channel>");
  });
});
