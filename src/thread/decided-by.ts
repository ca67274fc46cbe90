import { z } from "zod";

/**
 * Who decided an approval and through which channel, as every decision event records it, and as
 * people read it.
 */

/** The channels an approval can be decided through. */
export const DECISION_CHANNELS = ["slack", "github", "api", "dashboard"] as const;
export type DecisionChannel = (typeof DECISION_CHANNELS)[number];

/**
 * Who decided and through which channel: `by` is the Slack user id, the GitHub login or the API
 * client's token name. Events stored before `by` and `channel` existed carry only `slack_user`: they
 * read as a Slack decision by that user.
 */
export function decidedBy<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess(
    (raw) => {
      if (typeof raw !== "object" || raw === null) return raw;
      const data = raw as Record<string, unknown>;
      return {
        ...data,
        by: data.by ?? data.slack_user,
        channel: data.channel ?? "slack",
        slack_user: data.slack_user ?? null,
      };
    },
    z.object({
      approval_id: z.string(),
      by: z.string(),
      channel: z.enum(DECISION_CHANNELS),
      /** The Slack user id, for a decision made in Slack; null on other channels. */
      slack_user: z.string().nullable(),
      ...shape,
    }),
  );
}

/** Who decided, for people: `U01APPROVER` (a Slack id), `octocat (GitHub)`, `api:ci (REST API)`. */
export function deciderLabel(data: { by: string; channel: DecisionChannel }): string {
  switch (data.channel) {
    case "slack":
      return data.by;
    case "github":
      return `${data.by} (GitHub)`;
    case "api":
      return `api:${data.by} (REST API)`;
    case "dashboard":
      return `api:${data.by} (dashboard)`;
  }
}
