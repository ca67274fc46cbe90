import { describe, expect, it } from "vitest";
import { parsePrCommand, requestText } from "../../src/github/comment-command.js";

describe("a /deploybot command in a pull request comment", () => {
  it("is found on any line that starts with /deploybot", () => {
    expect(parsePrCommand("Looks good to me.\n/deploybot approve\nthanks")).toEqual({ kind: "approve" });
  });

  it("is not found in the middle of a line, in a quote or without the prefix", () => {
    expect(parsePrCommand("please run /deploybot approve")).toBeNull();
    expect(parsePrCommand("> /deploybot approve")).toBeNull();
    expect(parsePrCommand("/deploybotapprove")).toBeNull();
    expect(parsePrCommand("LGTM")).toBeNull();
  });

  it("reads status, approve, resume and the bare prefix", () => {
    expect(parsePrCommand("/deploybot status")).toEqual({ kind: "status" });
    expect(parsePrCommand("/deploybot Approve")).toEqual({ kind: "approve" });
    expect(parsePrCommand("/deploybot resume")).toEqual({ kind: "resume" });
    expect(parsePrCommand("/deploybot")).toEqual({ kind: "help" });
  });

  it("keeps the reason of a rejection and asks for one when it is missing", () => {
    expect(parsePrCommand("/deploybot reject not that commit: frontend first")).toEqual({
      kind: "reject",
      reason: "not that commit: frontend first",
    });
    expect(parsePrCommand("/deploybot reject")).toMatchObject({ kind: "invalid" });
  });

  it("reads pause and cancel with an optional reason", () => {
    expect(parsePrCommand("/deploybot pause")).toEqual({ kind: "pause", reason: null });
    expect(parsePrCommand("/deploybot cancel wrong branch")).toEqual({
      kind: "cancel",
      reason: "wrong branch",
    });
  });

  it("reads a rollback of a component in an environment", () => {
    expect(parsePrCommand("/deploybot rollback Frontend production")).toEqual({
      kind: "rollback",
      component: "frontend",
      environment: "production",
    });
    expect(parsePrCommand("/deploybot rollback frontend")).toMatchObject({ kind: "invalid" });
  });

  it("reads a deploy of a component to an environment", () => {
    expect(parsePrCommand("/deploybot deploy backend to staging")).toEqual({
      kind: "deploy",
      component: "backend",
      environment: "staging",
    });
  });

  it("hands anything else to the decider as words", () => {
    expect(parsePrCommand("/deploybot roll back the frontend in production")).toEqual({
      kind: "words",
      text: "roll back the frontend in production",
    });
    expect(parsePrCommand("/deploybot deploy the frontend to staging")).toEqual({
      kind: "words",
      text: "deploy the frontend to staging",
    });
  });

  it("turns fixed commands into the words the decider reads", () => {
    expect(requestText({ kind: "rollback", component: "frontend", environment: "production" })).toBe(
      "roll back frontend in production",
    );
    expect(requestText({ kind: "deploy", component: "backend", environment: "staging" })).toBe(
      "deploy backend to staging",
    );
  });
});

describe("a deploy or rollback with --break-glass", () => {
  it("carries the quoted reason", () => {
    expect(
      parsePrCommand('/deploybot deploy backend to production --break-glass "checkout is down"'),
    ).toEqual({
      kind: "deploy",
      component: "backend",
      environment: "production",
      breakGlass: "checkout is down",
    });
    expect(parsePrCommand("/deploybot rollback backend production --break-glass “bad release”")).toEqual({
      kind: "rollback",
      component: "backend",
      environment: "production",
      breakGlass: "bad release",
    });
  });

  it("is invalid without a reason, and says break-glass needs one", () => {
    for (const body of [
      "/deploybot deploy backend to production --break-glass",
      '/deploybot deploy backend to production --break-glass ""',
    ]) {
      const command = parsePrCommand(body);
      expect(command?.kind).toBe("invalid");
      expect(command && "problem" in command ? command.problem : "").toContain("break-glass needs a reason");
    }
  });

  it("is invalid on anything but a fixed deploy or rollback", () => {
    expect(parsePrCommand('/deploybot approve --break-glass "now"')?.kind).toBe("invalid");
    expect(parsePrCommand('/deploybot ship it all --break-glass "now"')?.kind).toBe("invalid");
  });
});
