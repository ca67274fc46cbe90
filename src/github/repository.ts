import { z } from "zod";
import { statusOf } from "./errors.js";
import type { ProbotOctokit } from "probot";
import {
  REPO_CONFIG_PATH,
  RepoConfigError,
  validateRepoConfig,
  type RepoConfig,
} from "../config/repo-config.js";
import type { EventDataOf } from "../thread/events.js";
import { clip, type RepoRef } from "../thread/text.js";

/** Reads of a repository that a deploy decision needs: its config, a PR's files, CI state. */

export type Octokit = ProbotOctokit;

export type LoadedConfig =
  | { kind: "missing" }
  | { kind: "invalid"; file: string; problems: string[] }
  | {
      kind: "ok";
      config: RepoConfig;
      /** The merged settings, as written (before defaults). */
      source: Record<string, unknown>;
      defaultBranch: string;
      /** The files read, the repository's own first: `owner/repo:.github/deploybot.yml`. */
      files: string[];
    };

type ConfigObject = Record<string, unknown>;

/** Errors of Probot's config loader (bad YAML, a bad `_extends`, recursion) start with this. */
const CONFIG_LOADER_PREFIX = "[@probot/octokit-plugin-config]";

function fileLabel(file: { owner: string; repo: string; path: string }): string {
  return `${file.owner}/${file.repo}:${file.path}`;
}

/** A file's top-level keys replace those of the files it extends, whole (no deep merge of lists). */
function mergeTopLevel(configs: ConfigObject[]): ConfigObject {
  return Object.assign({}, ...configs) as ConfigObject;
}

/**
 * `.github/deploybot.yml`, read from the default branch with Probot's config loader: when the
 * repository has no such file, the owner's `.github` repository's file applies, and `_extends`
 * (`.github`, `other-repo`, `owner/repo:path.yml`) merges shared defaults under the file's own keys.
 * The merged result is validated; a problem names the field and the file it came from. A missing
 * file everywhere is not an error.
 */
export async function loadRepoConfig(octokit: Octokit, ref: RepoRef): Promise<LoadedConfig> {
  const { data: repository } = await octokit.rest.repos.get(ref);
  const ownFile = fileLabel({ ...ref, path: REPO_CONFIG_PATH });
  let result: Awaited<ReturnType<Octokit["config"]["get"]>>;
  try {
    result = await octokit.config.get<ConfigObject>({
      ...ref,
      path: REPO_CONFIG_PATH,
      branch: repository.default_branch,
      defaults: (configs) => mergeTopLevel(configs as ConfigObject[]),
    });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith(CONFIG_LOADER_PREFIX)) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message.split("\n")[0]}` : "";
      return {
        kind: "invalid",
        file: ownFile,
        problems: [`${error.message.slice(CONFIG_LOADER_PREFIX.length).trim()}${cause}`],
      };
    }
    throw error;
  }
  const found = result.files.filter(
    (file): file is typeof file & { config: ConfigObject } =>
      typeof file.config === "object" && file.config !== null,
  );
  if (found.length === 0) return { kind: "missing" };
  const source = result.config as ConfigObject;
  const mainFile = fileLabel(found[0]!);
  const fileOf = (key: string) => {
    const origin = found.find((file) => key in file.config);
    return origin ? fileLabel(origin) : mainFile;
  };
  try {
    const config = validateRepoConfig(source, mainFile, fileOf);
    return {
      kind: "ok",
      config,
      source,
      defaultBranch: repository.default_branch,
      files: found.map(fileLabel),
    };
  } catch (error) {
    if (error instanceof RepoConfigError)
      return { kind: "invalid", file: error.file, problems: error.problems.slice(0, 20) };
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
  return { sha, state, summary: clip(parts.join("; "), 500) };
}

/**
 * Where `head` stands relative to `base` (GitHub's compare API), or null when GitHub knows one of
 * the commits no more (404: force-pushed away, or never pushed).
 */
const ComparisonAnswer = z.object({
  status: z.enum(["ahead", "behind", "identical", "diverged"]),
  ahead_by: z.number().int(),
  behind_by: z.number().int(),
});

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
    // An answer without a known status (a proxy, an odd server) says nothing: treated as no comparison.
    const known = ComparisonAnswer.safeParse(data);
    return known.success ? { base, head, ...known.data } : null;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}
