import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { REPO_CONFIG_PATH, type RepoConfig } from "../config/repo-config.js";
import { breakGlassVerdict } from "../agent/policy/break-glass.js";
import { pullRequestOfCommit } from "../github/installations.js";
import { ciState, loadRepoConfig, type LoadedConfig, type Octokit } from "../github/repository.js";
import { newEvent, type EventDataOf } from "../thread/events.js";
import { deployedVersions } from "./ingest.js";
import { prThreadRef } from "./pr-threads.js";
import { clip, type RepoRef, repoRefOf } from "../thread/text.js";

/**
 * A request in words (from Slack or the REST API) becomes a thread: its first event is the request,
 * then what a decision needs: the repository's config, the tip of its deploy branch, what is
 * deployed where, and that commit's CI state. The decider turns the words into a step; the policy
 * judges it like any other.
 */

export interface RequestOrigin {
  source: EventDataOf<"chat_request">["source"];
  slackUser: string | null;
  channel: string | null;
  ts: string | null;
  requestedBy: string | null;
}

export type StartedRequest = { ok: true } | { ok: false; problem: string };

/** A break-glass declared with a request; `environment` null: wherever its declarer is listed. */
export type DeclaredBreakGlass = NonNullable<EventDataOf<"chat_request">["break_glass"]>;

/** Whether the declarer may break glass where the request says (anywhere they are listed, if unnamed). */
function breakGlassProblem(config: RepoConfig, declared: DeclaredBreakGlass): string | null {
  const named = declared.environment;
  const environments = config.environments.filter((e) => named === null || e.name === named);
  if (environments.length === 0) {
    return `unknown environment "${named}"; this repository has ${config.environments.map((e) => e.name).join(", ")}`;
  }
  const verdicts = environments.map((e) => ({ e, verdict: breakGlassVerdict(config, e, declared) }));
  if (verdicts.some(({ verdict }) => verdict.ok)) return null;
  // Unnamed, the refusal where somebody is listed says more than one where nobody is.
  const refused = verdicts.find(({ e, verdict }) => !verdict.ok && e.break_glass.length > 0) ?? verdicts[0];
  return refused && !refused.verdict.ok ? `${refused.verdict.reason}. Nothing was deployed.` : null;
}

/** A request that may start: its repository's config read, and any break-glass allowed. */
export type CheckedRequest =
  | { ok: true; octokit: Octokit; loaded: Extract<LoadedConfig, { kind: "ok" }> }
  | { ok: false; problem: string };

/**
 * Whether a request may start in `repo`: it has a valid config, and a declared break-glass is by
 * someone listed. A channel that must refuse before it shows anything (Slack's `/deploybot`) checks
 * first and hands the result to `startRequestThread`.
 */
export async function checkRequest(
  deps: LoopDeps,
  input: { repo: string; installationId: number; breakGlass?: DeclaredBreakGlass },
): Promise<CheckedRequest> {
  const octokit = await deps.octokitFor(input.installationId);
  const loaded = await loadRepoConfig(octokit, repoRefOf(input.repo));
  if (loaded.kind !== "ok") {
    return {
      ok: false,
      problem:
        loaded.kind === "missing"
          ? `${input.repo} has no ${REPO_CONFIG_PATH}.`
          : `${loaded.file} is invalid: ${clip(loaded.problems.join("; "), 1_000)}`,
    };
  }
  const refused = input.breakGlass ? breakGlassProblem(loaded.config, input.breakGlass) : null;
  return refused ? { ok: false, problem: refused } : { ok: true, octokit, loaded };
}

export async function startRequestThread(
  deps: LoopDeps,
  input: {
    threadId: string;
    repo: string;
    installationId: number;
    text: string;
    origin: RequestOrigin;
    breakGlass?: DeclaredBreakGlass;
    /** The same request's `checkRequest`, when the channel checked it already. */
    checked?: Extract<CheckedRequest, { ok: true }>;
  },
): Promise<StartedRequest> {
  const ref = repoRefOf(input.repo);
  const checked = input.checked ?? (await checkRequest(deps, input));
  if (!checked.ok) return checked;
  const { octokit, loaded } = checked;
  const { data: branch } = await octokit.rest.repos.getBranch({ ...ref, branch: loaded.config.branch });
  const head = branch.commit.sha;
  const request = newEvent("chat_request", {
    text: clip(input.text, 2_000),
    slack_user: input.origin.slackUser,
    channel: input.origin.channel,
    ts: input.origin.ts,
    source: input.origin.source,
    requested_by: input.origin.requestedBy,
    ...(input.breakGlass ? { break_glass: input.breakGlass } : {}),
    installation_id: input.installationId,
    owner: ref.owner,
    repo: ref.repo,
  });
  const found = deps.prComments ? await pullRequestFound(deps, octokit, ref, head) : null;
  if (found) await deps.store.setRef(prThreadRef(input.repo, found.number), input.threadId, deps.clock());
  await deps.store.createThread(
    {
      id: input.threadId,
      repo: input.repo,
      installationId: input.installationId,
      title: clip(`${input.repo}: ${input.text}`, 200),
    },
    [
      request,
      newEvent("config_loaded", { source: loaded.source, default_branch: loaded.defaultBranch }),
      newEvent("branch_head", { branch: loaded.config.branch, sha: head }),
      ...(found
        ? [
            newEvent("pr_found", {
              number: found.number,
              author: found.author,
              html_url: found.htmlUrl,
              sha: head,
            }),
          ]
        : []),
      newEvent(
        "deployed_versions",
        await deployedVersions(deps.store, octokit, ref, input.repo, loaded.config),
      ),
      newEvent("ci_state", await ciState(octokit, ref, head)),
    ],
    deps.clock(),
  );
  await advanceThread(deps, input.threadId);
  return { ok: true };
}

/** The PR of the commit to deploy; a failed lookup only costs the thread its PR comment. */
async function pullRequestFound(deps: LoopDeps, octokit: Octokit, ref: RepoRef, sha: string) {
  try {
    return await pullRequestOfCommit(octokit, ref, sha);
  } catch (error) {
    deps.log.warn(
      { repo: `${ref.owner}/${ref.repo}` },
      `could not find the pull request of ${sha}: ${String(error)}`,
    );
    return null;
  }
}
