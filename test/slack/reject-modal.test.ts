import type { SectionBlock } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { rejectModal } from "../../src/slack/reject-modal.js";

describe("the reject modal", () => {
  it("matches the Slack interface contract exactly", () => {
    expect(rejectModal("apr_01JD8Z6W3K", "Deploy backend `a1b2c3d` to production <!channel>")).toEqual({
      type: "modal",
      callback_id: "deploybot.reject",
      private_metadata: "apr_01JD8Z6W3K",
      title: { type: "plain_text", text: "Reject deploy" },
      submit: { type: "plain_text", text: "Reject" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: "Deploy backend `a1b2c3d` to production &lt;!channel&gt;" },
        },
        {
          type: "input",
          block_id: "reason",
          label: { type: "plain_text", text: "Why? deploybot re-plans with your reason" },
          element: { type: "plain_text_input", action_id: "reason", multiline: true, max_length: 2000 },
        },
      ],
    });
  });

  it("keeps a huge summary within the section limit", () => {
    const view = rejectModal("apr_1", "S".repeat(10_000));
    const summary = view.blocks[0] as SectionBlock;
    expect(summary.text?.text.length).toBeLessThanOrEqual(3000);
    expect(summary.text?.text.endsWith("…")).toBe(true);
  });
});
