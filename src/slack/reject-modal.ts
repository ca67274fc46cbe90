import type { View } from "@slack/web-api";
import { untrusted } from "./mrkdwn.js";
import { section, SLACK_LIMITS } from "./block-kit.js";

/** The modal a Reject click opens, asking for the reason. */

export const REJECT_CALLBACK_ID = "deploybot.reject";
export const REJECT_REASON_BLOCK_ID = "reason";
export const REJECT_REASON_ACTION_ID = "reason";
export const REJECT_REASON_MAX_LENGTH = 2000;

/** The modal Reject opens: the reason goes back to the model, which re-plans. */
export function rejectModal(approvalId: string, summary: string): View {
  if (approvalId.length === 0 || approvalId.length > SLACK_LIMITS.privateMetadata) {
    throw new Error(
      `approval id must be 1..${SLACK_LIMITS.privateMetadata} characters (it is private_metadata)`,
    );
  }
  return {
    type: "modal",
    callback_id: REJECT_CALLBACK_ID,
    private_metadata: approvalId,
    title: { type: "plain_text", text: "Reject deploy" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      section(summary.trim() ? untrusted(summary, SLACK_LIMITS.sectionText) : "Reject this request?"),
      {
        type: "input",
        block_id: REJECT_REASON_BLOCK_ID,
        label: { type: "plain_text", text: "Why? deploybot re-plans with your reason" },
        element: {
          type: "plain_text_input",
          action_id: REJECT_REASON_ACTION_ID,
          multiline: true,
          max_length: REJECT_REASON_MAX_LENGTH,
        },
      },
    ],
  };
}
