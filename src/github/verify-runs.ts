import { findRecentDispatch, type DispatchResult } from "./deployments.js";
import type { Octokit } from "./repository.js";
import type { RepoRef } from "../thread/text.js";
import { short } from "../thread/text.js";

/**
 * The runs of an environment's `verify` workflow: found again after a dispatch in doubt, and read
 * when their `workflow_run` webhook never came.
 */

/** The place a verification checks, as its dispatch inputs name it. */
export interface VerifiedPlace {
  component: string;
  environment: string;
  sha: string;
}

/**
 * A run of `workflow` dispatched since `since` whose run-name names the place (the contract asks
 * for `run-name: verify <component> <sha> in <environment>`), or null. Used after a crash, when it
 * is unknown whether the dispatch went out.
 */
export async function findVerifyRun(
  octokit: Octokit,
  ref: RepoRef,
  workflow: string,
  place: VerifiedPlace,
  since: Date,
): Promise<DispatchResult | null> {
  const named = (title: string) =>
    title.includes(place.component) && title.includes(place.environment) && title.includes(short(place.sha));
  return findRecentDispatch(
    octokit,
    ref,
    workflow,
    (run) => Date.parse(run.created_at) >= since.getTime() - 60_000 && named(run.display_title),
  );
}

export interface RunResult {
  /** Null while the run has not completed. */
  conclusion: string | null;
  url: string;
}

/** How a run stands now. */
export async function readRun(octokit: Octokit, ref: RepoRef, runId: number): Promise<RunResult> {
  const { data } = await octokit.rest.actions.getWorkflowRun({ ...ref, run_id: runId });
  return {
    conclusion: data.status === "completed" ? (data.conclusion ?? "failure") : null,
    url: data.html_url,
  };
}
