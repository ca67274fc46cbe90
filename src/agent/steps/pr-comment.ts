import { writePrComment } from "../../github/pr-comments.js";
import { repoRefOf } from "../../thread/text.js";
import { newEvent } from "../../thread/events.js";
import { prCommentMarker, type PrCommentSync } from "../pr-comment.js";
import { record, type StepRun } from "./step-run.js";

/** Creates or updates the thread's comment on its pull request (the intent recorded before a create). */
export async function syncPrComment(run: StepRun, sync: PrCommentSync): Promise<void> {
  const { deps } = run;
  const { thread } = run.view;
  const key = `pr_comment:${sync.number}`;
  if (sync.commentId === null) {
    const intended = thread.events.some((e) => e.type === "pr_comment_posting");
    if (!intended) {
      await record(run, [newEvent("pr_comment_posting", { number: sync.number })]);
      run.intentsHere.add(key);
      return;
    }
  }
  const result = await writePrComment(await deps.octokitFor(thread.installationId), repoRefOf(thread.repo), {
    number: sync.number,
    body: sync.body,
    marker: prCommentMarker(thread.id),
    commentId: sync.commentId,
    recovering: !run.intentsHere.has(key),
  });
  if (result.error) {
    deps.log.warn({ thread: thread.id }, `could not comment on #${sync.number}: ${result.error}`);
  }
  await record(run, [
    newEvent("pr_comment_synced", {
      number: sync.number,
      comment_id: result.commentId,
      digest: sync.digest,
      error: result.error,
    }),
  ]);
}
