import { z } from "zod";

/**
 * An approve or reject given outside Slack (the dashboard, the REST API, a PR comment), as it waits
 * in the inbox (kind `api.decision`) for the worker to judge it against the approver policy.
 */

export const API_DECISION_KIND = "api.decision";

export const ApiDecision = z.object({
  thread_id: z.string(),
  decision: z.enum(["approve", "reject"]),
  reason: z.string().nullable(),
  /** Who decided: the API token's name. */
  client: z.string(),
  /** Where it was given: `dashboard` for the dashboard's buttons. */
  channel: z.string().min(1),
  /** When the decision reached deploybot: an approval is judged at that moment. */
  received_at: z.string(),
});
export type ApiDecision = z.infer<typeof ApiDecision>;
