import { describe, expect, it } from "vitest";
import { parsePrCommand } from "../../src/github/comment-command.js";
import { parseLockCommand } from "../../src/github/lock-command.js";
import { lockTargetProblem } from "../../src/config/lock-target.js";
import { sampleConfig } from "../helpers/thread-builder.js";

describe("a lock command", () => {
  it("locks a whole environment with the reason in double quotes", () => {
    expect(parsePrCommand('/deploybot lock production "migrating the database"')).toEqual({
      kind: "lock",
      repo: null,
      environment: "production",
      component: null,
      reason: "migrating the database",
    });
  });

  it("locks one component, and reads curly quotes and capitals", () => {
    expect(parsePrCommand("/deploybot Lock Production backend “release freeze”")).toEqual({
      kind: "lock",
      repo: null,
      environment: "production",
      component: "backend",
      reason: "release freeze",
    });
  });

  it("may name the repository first, as Slack needs outside a deploy channel", () => {
    expect(parseLockCommand("lock", 'acme/shop staging "load test"')).toMatchObject({
      repo: "acme/shop",
      environment: "staging",
      component: null,
    });
  });

  it("refuses a lock without a reason, or with an empty one", () => {
    expect(parsePrCommand("/deploybot lock production")).toEqual({
      kind: "invalid",
      problem: expect.stringContaining("say why") as string,
    });
    expect(parsePrCommand('/deploybot lock production backend ""')).toMatchObject({ kind: "invalid" });
  });

  it("asks for quotes when the reason is written without them", () => {
    expect(parsePrCommand("/deploybot lock production migrating the database")).toEqual({
      kind: "invalid",
      problem: expect.stringContaining("put the reason in double quotes") as string,
    });
  });

  it("refuses a name that cannot be an environment", () => {
    expect(parsePrCommand('/deploybot lock "why"')).toMatchObject({ kind: "invalid" });
    expect(parsePrCommand('/deploybot lock prod$ "why"')).toMatchObject({ kind: "invalid" });
  });
});

describe("an unlock command", () => {
  it("unlocks an environment or one component in it", () => {
    expect(parsePrCommand("/deploybot unlock production")).toEqual({
      kind: "unlock",
      repo: null,
      environment: "production",
      component: null,
    });
    expect(parsePrCommand("/deploybot unlock production frontend")).toMatchObject({ component: "frontend" });
  });

  it("takes no reason and no further names", () => {
    expect(parsePrCommand('/deploybot unlock production "done"')).toMatchObject({ kind: "invalid" });
    expect(parsePrCommand("/deploybot unlock production backend extra")).toMatchObject({ kind: "invalid" });
  });
});

describe("the place a lock names", () => {
  const config = sampleConfig();

  it("must be an environment of the config, named in the answer", () => {
    expect(lockTargetProblem(config, "qa", null)).toBe(
      'unknown environment "qa"; this repository has staging, production',
    );
  });

  it("must name a component of the config when it names one", () => {
    expect(lockTargetProblem(config, "production", "mobile")).toBe(
      'unknown component "mobile"; this repository has backend, frontend',
    );
    expect(lockTargetProblem(config, "production", "backend")).toBeNull();
    expect(lockTargetProblem(config, "staging", null)).toBeNull();
  });
});
