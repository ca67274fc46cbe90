import type { RepoConfig } from "../config/repo-config.js";
import { deciderLabel, type DecisionChannel } from "./events.js";
import { personOf } from "./identity.js";

/**
 * Quorum: how many distinct people approved a step, one person across channels (see identity.ts).
 * The PR's author never counts. Pure.
 */

/** One answer to an approval request, as the thread records it (`approval_granted` / `approval_rejected`). */
export interface ApprovalAnswer {
  decision: "approve" | "reject";
  /** The Slack user id, the GitHub login or the API client's token name. */
  by: string;
  channel: DecisionChannel;
  at: Date;
  reason?: string;
}

export interface Quorum {
  /** Distinct people whose approval counts. */
  count: number;
  required: number;
  satisfied: boolean;
  /** Who counted, as people read them ("U01APPROVER", "octocat (GitHub)"), first answer of each person. */
  counted: string[];
  /** The PR's author approved; it was not counted. */
  refusedAuthor: boolean;
  /** The first rejection within the request's life: it stops the step. */
  rejection: ApprovalAnswer | null;
  /** The request expired (from the time it was made) before it was satisfied or rejected. */
  expired: boolean;
}

/** When a request made at `requestedAt` expires, for an environment's `approval_expires_after` (null: never). */
export function requestExpiresAt(requestedAt: Date, expiresAfterMs: number | null): Date | null {
  return expiresAfterMs === null ? null : new Date(requestedAt.getTime() + expiresAfterMs);
}

/**
 * Counts the answers to one request. Answers at or after `expiresAt` do not count: expiry applies
 * to the whole request, from when it was made, not to each approval.
 */
export function tallyApprovals(input: {
  config: RepoConfig;
  required: number;
  answers: readonly ApprovalAnswer[];
  /** The GitHub login of the PR's author, when the thread deploys a pull request. */
  prAuthor: string | null;
  expiresAt: Date | null;
  /** The time of judging; without it, `expired` is false. */
  now?: Date;
}): Quorum {
  const { config, required } = input;
  const expiry = input.expiresAt?.getTime() ?? Infinity;
  const author = input.prAuthor ? personOf(config, { by: input.prAuthor, channel: "github" }) : null;
  const people = new Map<string, string>();
  let refusedAuthor = false;
  let rejection: ApprovalAnswer | null = null;
  const inTime = [...input.answers]
    .filter((a) => a.at.getTime() < expiry)
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const answer of inTime) {
    if (answer.decision === "reject") {
      rejection ??= answer;
      continue;
    }
    const person = personOf(config, answer);
    if (person === author) {
      refusedAuthor = true;
      continue;
    }
    if (!people.has(person)) people.set(person, deciderLabel(answer));
  }
  const satisfied = rejection === null && people.size >= required;
  return {
    count: people.size,
    required,
    satisfied,
    counted: [...people.values()],
    refusedAuthor,
    rejection,
    expired: !satisfied && rejection === null && (input.now?.getTime() ?? -Infinity) >= expiry,
  };
}

/** "1 of 2 approvals", for cards and comments. */
export function quorumText(quorum: Pick<Quorum, "count" | "required">): string {
  return `${quorum.count} of ${quorum.required} approval${quorum.required === 1 ? "" : "s"}`;
}
