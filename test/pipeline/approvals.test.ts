import { describe, expect, it } from "vitest";
import { ApiDecision } from "../../src/pipeline/approvals.js";
import { parseEvent } from "../../src/thread/events.js";

describe("recorded decisions", () => {
  it("reads a decision stored before channels existed as a Slack decision by its user", () => {
    const event = parseEvent({
      seq: 9,
      at: "2026-11-24T12:00:00Z",
      type: "approval_granted",
      data: { approval_id: "ap_1", slack_user: "U01APPROVER" },
    });
    expect(event.data).toEqual({
      approval_id: "ap_1",
      by: "U01APPROVER",
      channel: "slack",
      slack_user: "U01APPROVER",
    });
  });

  it("keeps who decided and through which channel", () => {
    const event = parseEvent({
      seq: 9,
      at: "2026-11-24T12:00:00Z",
      type: "approval_rejected",
      data: { approval_id: "ap_1", by: "hubot", channel: "github", slack_user: null, reason: "not now" },
    });
    expect(event.data).toMatchObject({ by: "hubot", channel: "github", slack_user: null });
  });

  it("accepts the api.decision entry the REST API and the dashboard queue, and nothing else", () => {
    const entry = {
      thread_id: "th_1",
      decision: "reject",
      reason: "wrong commit",
      client: "release",
      channel: "dashboard",
      received_at: "2026-11-24T12:00:00.000Z",
    };
    expect(ApiDecision.parse(entry)).toEqual(entry);
    expect(ApiDecision.safeParse({ ...entry, channel: "slack" }).success).toBe(false);
  });
});
