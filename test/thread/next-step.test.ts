import { describe, expect, it } from "vitest";
import { AnswerStep, parseNextStep } from "../../src/thread/next-step.js";
import { resolveCommit } from "../../src/thread/versions.js";
import { MERGE_SHA, mergeStart, on, PREVIOUS_SHA, threadWith } from "../helpers/thread-builder.js";

const known = { components: ["backend", "frontend"], environments: ["staging", "production"] };
const events = threadWith([...mergeStart(), on.deployed({ "backend/production": PREVIOUS_SHA })]).events;
const resolver = (value: string, place: { component: string; environment: string } | null) =>
  resolveCommit(value, events, place);

describe("the answer contract", () => {
  it("accepts a full SHA, a label or a short SHA where a commit goes, and nothing else", () => {
    const step = { intent: "deploy_backend", environment: "staging", reason: "r" };
    for (const sha of [MERGE_SHA, "merge", "tip", "previous", "0123456"]) {
      expect(AnswerStep.safeParse({ ...step, sha }).success).toBe(true);
    }
    expect(AnswerStep.safeParse({ ...step, sha: "latest" }).success).toBe(false);
  });
});

describe("resolving the commit an answer names", () => {
  it("keeps a full SHA as it is, even one the thread never named", () => {
    const sha = "a".repeat(40);
    expect(
      parseNextStep({ intent: "deploy_backend", environment: "staging", sha, reason: "r" }, known, resolver),
    ).toMatchObject({
      ok: true,
      step: { sha },
    });
  });

  it("turns a unique short SHA of the thread into the full one", () => {
    const parsed = parseNextStep(
      { intent: "rollback", component: "backend", environment: "production", to_sha: "89abcde", reason: "r" },
      known,
      resolver,
    );
    expect(parsed).toMatchObject({ ok: true, step: { to_sha: PREVIOUS_SHA } });
  });

  it("says when a short SHA names no commit of the thread", () => {
    const parsed = parseNextStep(
      { intent: "deploy_backend", environment: "staging", sha: "abcdef1", reason: "r" },
      known,
      resolver,
    );
    expect(parsed).toEqual({
      ok: false,
      error:
        'sha: commit "abcdef1" is neither a 40-hex SHA, a commit of this thread, nor a label (merge, tip, previous)',
    });
  });
});
