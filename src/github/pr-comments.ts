import { NO_BLIND_RETRY } from "./deployments.js";
import { statusOf } from "./errors.js";
import type { Octokit } from "./repository.js";
import type { RepoRef } from "../thread/text.js";
import { clip } from "../thread/text.js";

/**
 * The thread's one comment on its pull request: created once, then edited in place. After a doubt
 * (a crash or a lost answer after the create) the comment is looked for by its hidden marker first.
 */

export interface PrCommentWrite {
  number: number;
  body: string;
  marker: string;
  commentId: number | null;
  /** A create may have happened without its answer arriving: look before creating. */
  recovering: boolean;
}

export type PrCommentResult =
  { commentId: number; error: null } | { commentId: number | null; error: string };

/** Statuses that say "this will not work however often it is tried" (no permission, no such PR). */
const REFUSALS = new Set([401, 403, 404, 410, 422]);

/** The id of the first comment on the issue or PR whose body holds `marker`, or null. */
export async function findByMarker(octokit: Octokit, ref: RepoRef, number: number, marker: string) {
  for (let page = 1; page <= 5; page++) {
    const { data } = await octokit.rest.issues.listComments({
      ...ref,
      issue_number: number,
      per_page: 100,
      page,
    });
    const found = data.find((c) => c.body?.includes(marker));
    if (found) return found.id;
    if (data.length < 100) return null;
  }
  return null;
}

export async function writePrComment(
  octokit: Octokit,
  ref: RepoRef,
  write: PrCommentWrite,
): Promise<PrCommentResult> {
  try {
    let commentId =
      write.commentId ??
      (write.recovering ? await findByMarker(octokit, ref, write.number, write.marker) : null);
    if (commentId !== null) {
      try {
        await octokit.rest.issues.updateComment({ ...ref, comment_id: commentId, body: write.body });
        return { commentId, error: null };
      } catch (error) {
        // Someone deleted the comment: post it again.
        if (statusOf(error) !== 404) throw error;
        commentId = null;
      }
    }
    const { data } = await octokit.rest.issues.createComment({
      ...ref,
      issue_number: write.number,
      body: write.body,
      request: NO_BLIND_RETRY,
    });
    return { commentId: data.id, error: null };
  } catch (error) {
    const status = statusOf(error);
    if (status === undefined || !REFUSALS.has(status)) throw error;
    const message = error instanceof Error ? clip(error.message.split("\n")[0]!, 200) : String(error);
    return { commentId: write.commentId, error: `HTTP ${status}: ${message}` };
  }
}
