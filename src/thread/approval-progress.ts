import type { RepoConfig } from "../config/repo-config.js";
import { deciderLabel, type EventOf } from "./events.js";
import { tallyApprovals, type ApprovalAnswer } from "./quorum.js";

/** How far an approval request got: "1 of 2 approvals", and who gave them. */
export interface ApprovalProgress {
  approvalId: string;
  required: number;
  count: number;
  /** Who counted, first answer of each person ("U01APPROVER", "octocat (GitHub)"). */
  counted: string[];
}

/**
 * The quorum of a request after one more approval: one person counts once, across channels. Without
 * the thread's config (none loaded) every answer counts.
 */
export function progressAfter(
  config: RepoConfig | null,
  request: EventOf<"approval_requested">,
  answers: ApprovalAnswer[],
  prAuthor: string | null,
): ApprovalProgress {
  const required = request.data.approvals_required ?? 1;
  const quorum = config
    ? tallyApprovals({ config, required, answers, prAuthor, expiresAt: null })
    : { count: answers.length, counted: answers.map((a) => deciderLabel(a)) };
  return { approvalId: request.data.approval_id, required, count: quorum.count, counted: quorum.counted };
}
