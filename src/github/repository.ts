import type { ProbotOctokit } from "probot";
import { parse as parseYaml } from "yaml";
import {
  parseRepoConfig,
  REPO_CONFIG_PATH,
  RepoConfigError,
  type RepoConfig,
} from "../config/repo-config.js";
import type { EventDataOf } from "../thread/events.js";

/** Reads of a repository that a deploy decision needs: its config, a PR's files, CI state. */

export type Octokit = ProbotOctokit;

export type RepoRef = { owner: string; repo: string };

/** `owner/name` as octokit's parameters. */
export function repoRefOf(fullName: string): RepoRef {
  const [owner, repo] = fullName.split("/") as [string, string];
  return { owner, repo };
}

export type LoadedConfig =
  | { kind: "missing" }
  | { kind: "invalid"; problems: string[] }
  | { kind: "ok"; config: RepoConfig; source: Record<string, unknown>; defaultBranch: string };

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    ? error.status
    : undefined;
}

/** The body of a `format: raw` response: GitHub sends text/plain, which octokit may hand over as bytes. */
function rawText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data))
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  throw new Error(`unexpected response for ${REPO_CONFIG_PATH}: ${typeof data}`);
}

/** `.github/deploybot.yml` from the default branch; a missing file is not an error, an invalid one is. */
export async function loadRepoConfig(octokit: Octokit, ref: RepoRef): Promise<LoadedConfig> {
  const { data: repository } = await octokit.rest.repos.get(ref);
  let text: string;
  try {
    const response = await octokit.rest.repos.getContent({
      ...ref,
      path: REPO_CONFIG_PATH,
      ref: repository.default_branch,
      mediaType: { format: "raw" },
    });
    text = rawText(response.data as unknown);
  } catch (error) {
    if (statusOf(error) === 404) return { kind: "missing" };
    throw error;
  }
  try {
    const config = parseRepoConfig(text);
    const source = parseYaml(text) as Record<string, unknown>;
    return { kind: "ok", config, source, defaultBranch: repository.default_branch };
  } catch (error) {
    if (error instanceof RepoConfigError) return { kind: "invalid", problems: error.problems.slice(0, 20) };
    throw error;
  }
}

/** GitHub lists at most 3000 files per pull request; that bound is ours too. */
export async function listChangedFiles(
  octokit: Octokit,
  ref: RepoRef,
  pullNumber: number,
): Promise<string[]> {
  const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
    ...ref,
    pull_number: pullNumber,
    per_page: 100,
  });
  const names = new Set<string>();
  for (const file of files) {
    names.add(file.filename);
    // A renamed file leaves its old place too: both paths count.
    if (file.previous_filename) names.add(file.previous_filename);
  }
  return [...names];
}

/** The merge commit's CI state: commit statuses and check runs, combined. */
export async function ciState(octokit: Octokit, ref: RepoRef, sha: string): Promise<EventDataOf<"ci_state">> {
  const [{ data: combined }, { data: checks }] = await Promise.all([
    octokit.rest.repos.getCombinedStatusForRef({ ...ref, ref: sha, per_page: 100 }),
    octokit.rest.checks.listForRef({ ...ref, ref: sha, per_page: 100 }),
  ]);
  const results: { name: string; state: "success" | "failure" | "pending" }[] = [];
  for (const status of combined.statuses) {
    results.push({
      name: status.context,
      state: status.state === "success" ? "success" : status.state === "pending" ? "pending" : "failure",
    });
  }
  for (const run of checks.check_runs) {
    const state =
      run.status !== "completed"
        ? "pending"
        : ["success", "neutral", "skipped"].includes(run.conclusion ?? "")
          ? "success"
          : "failure";
    results.push({ name: run.name, state });
  }
  if (results.length === 0) return { sha, state: "none", summary: "no statuses or checks reported" };
  const failing = results.filter((r) => r.state === "failure").map((r) => r.name);
  const pending = results.filter((r) => r.state === "pending").map((r) => r.name);
  const state = failing.length > 0 ? "failure" : pending.length > 0 ? "pending" : "success";
  const parts = [`${results.length} checks`];
  if (failing.length > 0) parts.push(`failing: ${failing.slice(0, 5).join(", ")}`);
  if (pending.length > 0) parts.push(`pending: ${pending.slice(0, 5).join(", ")}`);
  if (state === "success") parts.push("all passed");
  return { sha, state, summary: parts.join("; ").slice(0, 500) };
}

/**
 * Where `head` stands relative to `base` (GitHub's compare API), or null when GitHub knows one of
 * the commits no more (404: force-pushed away, or never pushed).
 */
export async function compareCommits(
  octokit: Octokit,
  ref: RepoRef,
  base: string,
  head: string,
): Promise<EventDataOf<"commits_compared"> | null> {
  try {
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      ...ref,
      basehead: `${base}...${head}`,
      per_page: 1,
    });
    return { base, head, status: data.status, ahead_by: data.ahead_by, behind_by: data.behind_by };
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}
