import type { Store } from "../store/store.js";
import type { Octokit } from "./repository.js";
import type { RepoRef } from "../thread/text.js";
import { repoRefOf } from "../thread/text.js";

/**
 * Which installation of the app covers a repository: remembered once seen (a merge, an earlier
 * lookup), otherwise asked of GitHub with the app's own token (GET /repos/{owner}/{repo}/installation),
 * so a thread can start for any repository the app is installed on, merged into or not.
 */

export type InstallationFinder = (repo: string) => Promise<number | null>;

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    ? error.status
    : undefined;
}

/** The installation id covering the repository, or null when the app is not installed there. */
export async function findRepoInstallation(appOctokit: Octokit, ref: RepoRef): Promise<number | null> {
  try {
    const { data } = await appOctokit.rest.apps.getRepoInstallation(ref);
    return data.id;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

export function installationFinder(deps: {
  store: Store;
  clock: () => Date;
  /** An octokit authenticated as the app itself (a JWT): Probot's `app.auth()`. */
  appOctokit: () => Promise<Octokit>;
}): InstallationFinder {
  return async (repo) => {
    const key = `repo:${repo.toLowerCase()}`;
    const known = await deps.store.getRef(key);
    if (known) return Number(known);
    const id = await findRepoInstallation(await deps.appOctokit(), repoRefOf(repo));
    if (id !== null) await deps.store.setRef(key, String(id), deps.clock());
    return id;
  };
}

/**
 * The merged pull request that brought `sha` into the repository (GET /repos/{o}/{r}/commits/{sha}/pulls),
 * or null: a thread started elsewhere comments there.
 */
export async function pullRequestOfCommit(
  octokit: Octokit,
  ref: RepoRef,
  sha: string,
): Promise<{ number: number; author: string; htmlUrl: string } | null> {
  const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
    ...ref,
    commit_sha: sha,
    per_page: 10,
  });
  const pr = data.find((p) => p.merged_at !== null) ?? null;
  return pr ? { number: pr.number, author: pr.user?.login ?? "ghost", htmlUrl: pr.html_url } : null;
}
