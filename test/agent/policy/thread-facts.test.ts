import { describe, expect, it } from "vitest";
import { approvalAnswersOf, promotionOf } from "../../../src/agent/policy/thread-facts.js";
import { newEvent } from "../../../src/thread/events.js";
import {
  deployRun,
  deployStep,
  MERGE_SHA,
  mergeStart,
  on,
  PREVIOUS_SHA,
  START,
  threadWith,
} from "../../helpers/thread-builder.js";

/** threadWith stamps event n at START + n minutes. */
const minute = (n: number) => new Date(Date.parse(START) + n * 60_000);
const staging = { component: "backend", environment: "staging", sha: MERGE_SHA };
const verifyEvent = (conclusion: "success" | "failure") =>
  newEvent("verify_finished", {
    ...staging,
    conclusion,
    url: "https://ci.example/run/7",
    summary: conclusion === "failure" ? "smoke: 502" : null,
  });

describe("the safety facts of a thread", () => {
  it("list the answers to one approval request with who, where and when", () => {
    const step = deployStep("backend", "production");
    const { events } = threadWith([
      ...mergeStart(), // 1-3
      on.approvalRequested(step, "ap_1"), // 4
      on.approvalGranted("ap_1", "U01APPROVER"), // 5
      on.approvalGranted("ap_other", "U02OTHER"), // 6
      on.approvalRejected("not now", "ap_1", "U03THIRD"), // 7
    ]);
    expect(approvalAnswersOf(events, "ap_1")).toEqual([
      { decision: "approve", by: "U01APPROVER", channel: "slack", at: minute(5) },
      { decision: "reject", by: "U03THIRD", channel: "slack", at: minute(7), reason: "not now" },
    ]);
  });

  it("give when a commit succeeded in an environment, and nothing for another commit", () => {
    const { events } = threadWith([...mergeStart(), ...deployRun("backend", "staging")]); // finished at 7
    expect(promotionOf(events, staging)).toEqual({ succeededAt: minute(7), verification: null });
    expect(promotionOf(events, { ...staging, sha: PREVIOUS_SHA }).succeededAt).toBeNull();
  });

  it("follow the verification from its dispatch to its result", () => {
    const dispatched = newEvent("verify_dispatched", {
      ...staging,
      workflow: "verify-staging.yml",
      run_id: 7,
      run_url: "https://ci.example/run/7",
    });
    const running = threadWith([...mergeStart(), ...deployRun("backend", "staging"), dispatched]).events;
    expect(promotionOf(running, staging).verification).toEqual({
      conclusion: "pending",
      url: "https://ci.example/run/7",
      summary: null,
    });
    const failed = threadWith([
      ...mergeStart(),
      ...deployRun("backend", "staging"),
      dispatched,
      verifyEvent("failure"),
    ]);
    expect(promotionOf(failed.events, staging).verification).toEqual({
      conclusion: "failure",
      url: "https://ci.example/run/7",
      summary: "smoke: 502",
    });
  });
});
