import type { LoopDeps } from "../agent/loop-deps.js";
import { judge, lockKeyOf, type PolicyFacts } from "../agent/policy.js";
import type { RepoConfig } from "../config/repo-config.js";
import { loadRepoConfig, type Octokit } from "../github/repository.js";
import { runIdOfCallback, type DeploymentProtectionRuleRequested } from "../github/webhooks.js";
import { deriveState } from "../thread/state.js";
import { stepOfRun } from "./adopt-deployment.js";
import { clip, repoRefOf, short } from "../thread/text.js";

/**
 * deploybot as an environment's custom deployment protection rule (`deployments: actions`): GitHub
 * asks before any job deploys to the environment. A run deploybot dispatched for a step its policy
 * authorised, to that very environment, is approved at once; any other run (a manual dispatch, a
 * push) is judged by the same policy: allowed, or rejected with the reason and the way through
 * deploybot (where an approval is needed, asking there gets its approvers the card), so nothing
 * reaches the environment around its policy.
 */

export type GateVerdict = { state: "approved" | "rejected"; comment: string };

/** What a run deploybot did not dispatch would deploy: the component whose workflow it runs, and its commit. */
export interface ManualRun {
  config: RepoConfig;
  component: string | null;
  sha: string;
}

/**
 * A run deploybot did not dispatch (a manual dispatch, a push), judged by the same policy as any
 * step: allowed runs pass; one that needs an approval, or that the policy refuses, is rejected with
 * the reason and the way through deploybot (which asks the approvers).
 */
export function judgeManualRun(
  run: ManualRun,
  facts: Omit<PolicyFacts, "config" | "mergeSha" | "changedComponents" | "approved">,
  environment: string,
  howTo: string,
): GateVerdict {
  if (run.config.deployments !== "actions") {
    return { state: "rejected", comment: `deploybot did not dispatch this run. ${howTo}` };
  }
  if (!run.component) {
    return {
      state: "rejected",
      comment: `This run's workflow deploys no component of .github/deploybot.yml. ${howTo}`,
    };
  }
  const verdict = judge(
    {
      intent: `deploy_${run.component}`,
      environment,
      sha: run.sha,
      reason: "a run started outside deploybot",
    },
    { ...facts, config: run.config, mergeSha: null, changedComponents: null, approved: false },
  );
  switch (verdict.kind) {
    case "allow":
      return {
        state: "approved",
        comment: `deploybot's policy allows ${run.component} ${short(run.sha)} in ${environment}.`,
      };
    case "needs_approval":
      return {
        state: "rejected",
        comment: `${environment} needs an approval, which a run started outside deploybot cannot get. ${howTo} (its approvers are asked there).`,
      };
    default:
      return { state: "rejected", comment: `deploybot's policy refuses it: ${verdict.reason}. ${howTo}` };
  }
}

/** Reads what a judgement of a run deploybot did not dispatch needs: the config, the run's workflow. */
async function manualRun(
  octokit: Octokit,
  repo: string,
  runId: number,
  sha: string | null,
): Promise<ManualRun | null> {
  const ref = repoRefOf(repo);
  const loaded = await loadRepoConfig(octokit, ref);
  if (loaded.kind !== "ok") return null;
  const { data: run } = await octokit.rest.actions.getWorkflowRun({ ...ref, run_id: runId });
  const file = run.path.split("/").at(-1)?.split("@")[0] ?? "";
  const component =
    Object.entries(loaded.config.components).find(([, c]) => c.workflow === file)?.[0] ?? null;
  return { config: loaded.config, component, sha: sha ?? run.head_sha };
}

/** Why this run may or may not deploy to the environment. */
export async function judgeRun(
  deps: LoopDeps,
  repo: string,
  runId: number | null,
  environment: string,
  /** For a run deploybot did not dispatch: reads its config and workflow. */
  octokit: Octokit | null = null,
  sha: string | null = null,
): Promise<GateVerdict> {
  const howTo = `Deploys to ${environment} go through deploybot's policy: ask with \`/deploybot deploy <component> to ${environment}\` in a pull request comment, in Slack or through its REST API.`;
  const step = runId === null ? null : await stepOfRun(deps, repo, runId);
  if (!step) {
    const run = runId !== null && octokit ? await manualRun(octokit, repo, runId, sha) : null;
    if (!run) return { state: "rejected", comment: `deploybot did not dispatch this run. ${howTo}` };
    const successes: PolicyFacts["successes"] = [];
    let running: PolicyFacts["running"] = null;
    for (const env of run.config.environments) {
      const history = await deps.store.successfulDeployments(repo, {
        component: run.component ?? "",
        environment: env.name,
        limit: 50,
      });
      for (const d of history) {
        successes.push({ component: d.component, environment: d.environment, sha: d.sha });
      }
      // deploybot's newest success there is what runs now, as far as deploybot knows.
      if (env.name === environment && history[0])
        running = { sha: history[0].sha, source: "deploybot", pr: null };
    }
    const lock = run.component ? await deps.store.getLock(lockKeyOf(repo, run.component, environment)) : null;
    return judgeManualRun(
      run,
      {
        repo,
        successes,
        lockHolder: lock?.threadId ?? null,
        threadId: `run:${runId}`,
        running,
        // Not looked up for a run outside deploybot: unknown CI counts as pending (so an environment
        // with `ci: passing` refuses it), and no comparison is claimed.
        ci: null,
        comparison: null,
        rejected: [],
      },
      environment,
      howTo,
    );
  }
  const thread = await deps.store.getThread(step.threadId);
  const inFlight = thread ? deriveState(thread.events).inFlight : null;
  const authorized = inFlight?.authorized;
  if (!authorized || authorized.seq !== step.stepSeq) {
    return { state: "rejected", comment: `The step deploybot dispatched this run for is over. ${howTo}` };
  }
  if (authorized.data.environment !== environment) {
    return {
      state: "rejected",
      comment: `deploybot authorised this run for ${authorized.data.environment}, not ${environment}.`,
    };
  }
  return {
    state: "approved",
    comment: `deploybot authorised this ${authorized.data.kind} of ${authorized.data.component} ${short(authorized.data.sha)} to ${environment} (thread ${step.threadId}).`,
  };
}

export async function reviewDeploymentGate(
  deps: LoopDeps,
  payload: DeploymentProtectionRuleRequested,
): Promise<string> {
  const repo = payload.repository.full_name;
  const runId = runIdOfCallback(payload.deployment_callback_url);
  if (runId === null) return `skipped: no run in ${payload.deployment_callback_url}`;
  const octokit = await deps.octokitFor(payload.installation.id);
  const verdict = await judgeRun(
    deps,
    repo,
    runId,
    payload.environment,
    octokit,
    payload.deployment?.sha ?? null,
  );
  try {
    await octokit.rest.actions.reviewCustomGatesForRun({
      ...repoRefOf(repo),
      run_id: runId,
      environment_name: payload.environment,
      state: verdict.state,
      comment: clip(verdict.comment, 1_000),
    });
  } catch (error) {
    // Reviewed already (a redelivery after the answer was lost): GitHub refuses a second review.
    const status =
      typeof error === "object" && error !== null && "status" in error
        ? (error as { status: unknown }).status
        : null;
    if (status !== 422) throw error;
  }
  deps.log.info({ repo, run: runId, environment: payload.environment }, `protection rule: ${verdict.state}`);
  return `run ${runId} ${verdict.state} for ${payload.environment}`;
}
