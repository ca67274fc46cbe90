import { createHash } from "node:crypto";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { REPO_CONFIG_PATH } from "../config/repo-config.js";
import { lastGoodDeploymentsOnGitHub } from "../github/deployments.js";
import {
  ciState,
  compareCommits,
  listChangedFiles,
  loadRepoConfig,
  type Octokit,
} from "../github/repository.js";
import type { PullRequestClosed } from "../github/webhooks.js";
import { newEvent, type EventDataOf, type NewEvent } from "../thread/events.js";
import type { RepoConfig } from "../config/repo-config.js";
import type { Store } from "../store/store.js";
import { classifyChanges } from "./classify.js";
import { clip, type RepoRef, repoRefOf, truncate } from "../thread/text.js";

/**
 * The deterministic start of a deploy: a merged pull request becomes a thread whose first events
 * hold everything a decision needs (the config, the change set, what runs where, CI state).
 */

/** One thread per merged commit of a PR, whatever delivery brought it. */
export function threadIdForMerge(repo: string, number: number, mergeSha: string): string {
  return `th_${createHash("sha256").update(`${repo}#${number}@${mergeSha}`).digest("hex").slice(0, 20)}`;
}

export type IngestOutcome =
  { kind: "skipped"; reason: string } | { kind: "thread"; threadId: string; created: boolean };

export async function ingestMerge(deps: LoopDeps, payload: PullRequestClosed): Promise<IngestOutcome> {
  const pr = payload.pull_request;
  const repoName = payload.repository.full_name;
  if (!pr.merged || !pr.merge_commit_sha)
    return { kind: "skipped", reason: `${repoName}#${pr.number} closed without merging` };

  const ref: RepoRef = repoRefOf(repoName);
  const threadId = threadIdForMerge(repoName, pr.number, pr.merge_commit_sha);
  await deps.own?.(threadId);
  if (await deps.store.getThreadSummary(threadId)) {
    await advanceThread(deps, threadId);
    return { kind: "thread", threadId, created: false };
  }

  // 1. The repository's config, from its default branch.
  const octokit = await deps.octokitFor(payload.installation.id);
  const loaded = await loadRepoConfig(octokit, ref);
  if (loaded.kind === "missing") return { kind: "skipped", reason: `${repoName} has no ${REPO_CONFIG_PATH}` };

  const merged = newEvent("pr_merged", {
    installation_id: payload.installation.id,
    owner: ref.owner,
    repo: ref.repo,
    number: pr.number,
    title: truncate(pr.title, 300),
    body: truncate(pr.body ?? "", 2_000),
    author: pr.user?.login ?? "ghost",
    merge_sha: pr.merge_commit_sha,
    base_ref: pr.base.ref,
    html_url: pr.html_url,
  });
  const thread = {
    id: threadId,
    repo: repoName,
    installationId: payload.installation.id,
    title: truncate(`${repoName}#${pr.number} ${pr.title}`, 200),
  };

  if (loaded.kind === "invalid") {
    deps.log.warn(
      { thread: thread.id, repo: repoName },
      `${loaded.file} is invalid: ${loaded.problems.join("; ")}`,
    );
    await deps.store.createThread(
      thread,
      [
        merged,
        newEvent("config_invalid", { file: loaded.file, problems: loaded.problems }),
        newEvent("failed", {
          reason: clip(`${loaded.file} is invalid: ${loaded.problems.join("; ")}`, 1_000),
        }),
      ],
      deps.clock(),
    );
    return { kind: "thread", threadId, created: true };
  }
  const { config } = loaded;
  // Remember the installation and the Slack channel, so requests from Slack can find this repository.
  await deps.store.setRef(`repo:${repoName.toLowerCase()}`, String(payload.installation.id), deps.clock());
  if (config.slack) {
    await deps.store.setRef(
      `channel:${config.slack.channel}`,
      JSON.stringify({ repo: repoName, installationId: payload.installation.id }),
      deps.clock(),
    );
  }
  if (pr.base.ref !== config.branch) {
    return {
      kind: "skipped",
      reason: `${repoName}#${pr.number} merged into ${pr.base.ref}, not the deploy branch ${config.branch}`,
    };
  }

  // 2. What changed, sorted into components.
  const files = await listChangedFiles(octokit, ref, pr.number);
  const changes = classifyChanges(files, config);
  const events: NewEvent[] = [
    merged,
    newEvent("config_loaded", { source: loaded.source, default_branch: loaded.defaultBranch }),
    newEvent("changes_classified", changes),
  ];
  if (changes.components.length === 0) {
    events.push(
      newEvent("done", {
        message: `Nothing to deploy: none of the ${changes.files_total} changed files belongs to a component (${Object.keys(config.components).join(", ")}).`,
        by: "code",
      }),
    );
  } else {
    // 3. Pre-fetched context: what is deployed where, how the merge compares with each commit
    //    running where it goes (a newer merge may already contain it), and its CI state.
    const versions = await deployedVersions(deps.store, octokit, ref, repoName, config);
    events.push(newEvent("deployed_versions", versions));
    const changed = new Set(changes.components.map((c) => c.name));
    const running = new Set(
      versions.entries.flatMap((e) =>
        changed.has(e.component) && e.sha && e.sha !== pr.merge_commit_sha ? [e.sha] : [],
      ),
    );
    for (const sha of running) {
      const comparison = await compareCommits(octokit, ref, sha, pr.merge_commit_sha);
      if (comparison) events.push(newEvent("commits_compared", comparison));
    }
    events.push(newEvent("ci_state", await ciState(octokit, ref, pr.merge_commit_sha)));
  }
  const created = await deps.store.createThread(thread, events, deps.clock());
  deps.log.info(
    { thread: threadId, repo: repoName },
    changes.components.length === 0
      ? `${repoName}#${pr.number}: nothing to deploy`
      : `${repoName}#${pr.number}: deploying ${changes.components.map((c) => c.name).join(", ")}`,
  );
  await advanceThread(deps, threadId);
  return { kind: "thread", threadId, created };
}

/** Last good SHA per component and environment: deploybot's own history first, GitHub's as fallback. */
export async function deployedVersions(
  store: Store,
  octokit: Octokit,
  ref: RepoRef,
  repoName: string,
  config: RepoConfig,
): Promise<EventDataOf<"deployed_versions">> {
  const entries: EventDataOf<"deployed_versions">["entries"] = [];
  const missing: { component: string; environment: string }[] = [];
  for (const environment of config.environments) {
    for (const component of Object.keys(config.components)) {
      const own = await store.successfulDeployments(repoName, {
        component,
        environment: environment.name,
        limit: 20,
      });
      const [current] = own;
      if (current) {
        entries.push({
          component,
          environment: environment.name,
          sha: current.sha,
          deployment_id: current.deploymentId,
          at: current.finishedAt,
          source: "deploybot",
          previous_sha: own.find((d) => d.sha !== current.sha)?.sha ?? null,
        });
      } else missing.push({ component, environment: environment.name });
    }
  }
  const fromGitHub =
    missing.length > 0 ? await lastGoodDeploymentsOnGitHub(octokit, ref, config, missing) : [];
  for (const { component, environment } of missing) {
    const found = fromGitHub.find((g) => g.component === component && g.environment === environment);
    entries.push(
      found
        ? {
            component,
            environment,
            sha: found.sha,
            deployment_id: found.deploymentId,
            at: found.at,
            source: "github",
            previous_sha: found.previousSha,
          }
        : {
            component,
            environment,
            sha: null,
            deployment_id: null,
            at: null,
            source: "none",
            previous_sha: null,
          },
    );
  }
  return { entries };
}
