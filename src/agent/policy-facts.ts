import type { RepoConfig } from "../config/repo-config.js";
import { ciState, compareCommits, type Octokit } from "../github/repository.js";
import type { Log } from "../log.js";
import type { Lock, Store } from "../store/store.js";
import {
  lastOf,
  newEvent,
  type EventDataOf,
  type NewEvent,
  type Thread,
  type ThreadEvent,
} from "../thread/events.js";
import { changedComponents, configOf, deriveState, type ThreadState } from "../thread/state.js";
import { deployActionOf, type NextStep } from "../thread/next-step.js";
import {
  recordedCi,
  recordedComparison,
  rejectedSteps,
  runningAt,
  type Observed,
} from "../thread/versions.js";
import type { CiFact, PolicyFacts } from "./policy.js";
import { lockKeyOf } from "./policy.js";
import { repoRefOf } from "../thread/text.js";
import { approvalsOf, breakGlassOf, promotionOf } from "./policy/thread-facts.js";

/**
 * The facts the policy judges a step on. The pure part reads them from the thread's events (what
 * evals and replay use); the runner first looks up what may have changed since the thread started
 * (deploybot's history, the lock, the commit's CI state, how the commit compares with the one
 * running), and the lookups that GitHub answered become events, so the thread shows what was known.
 */

/**
 * The policy's facts from a thread's events (pure), completed by lookups made just before. With
 * `now`, the time of judging, the deploy windows, freezes and bake are judged too.
 */
export function factsFromEvents(
  thread: Thread,
  step: NextStep,
  approved: boolean,
  observed: Observed = {},
  state: ThreadState = deriveState(thread.events),
  now?: Date,
): PolicyFacts {
  const { events } = thread;
  const config = configOf(events);
  if (!config) throw new Error(`thread ${thread.id} has no configuration to judge a step with`);
  const merged = lastOf(events, "pr_merged");
  const action = deployActionOf(step);

  const successes = [...state.successes];
  for (const entry of lastOf(events, "deployed_versions")?.data.entries ?? []) {
    for (const sha of [entry.sha, entry.previous_sha]) {
      if (sha) successes.push({ component: entry.component, environment: entry.environment, sha });
    }
  }
  for (const d of observed.history ?? []) {
    successes.push({ component: d.component, environment: d.environment, sha: d.sha });
  }

  const running = action ? runningAt(events, action.component, action.environment, observed) : null;
  const ci = action ? recordedCi(events, action.sha) : undefined;
  return {
    repo: thread.repo,
    config,
    mergeSha: merged?.data.merge_sha ?? lastOf(events, "branch_head")?.data.sha ?? null,
    changedComponents: merged ? changedComponents(events) : null,
    successes,
    lockHolder: null,
    threadId: thread.id,
    approved,
    running,
    ci: ci ? ({ sha: ci.data.sha, state: ci.data.state, summary: ci.data.summary } satisfies CiFact) : null,
    comparison:
      action && running && running.sha !== action.sha
        ? recordedComparison(events, running.sha, action.sha)
        : null,
    rejected: rejectedSteps(events),
    // The quorum of an approved step is counted from its answers, one person once across channels.
    ...(approved && state.approved ? { approvals: approvalsOf(events, state.approved.approvalId) } : {}),
    ...(action ? { breakGlass: breakGlassOf(events, config, action.environment) } : {}),
    ...(now ? { now, promotion: promotionFacts(events, config, action) } : {}),
  };
}

/** The step's commit in the environment before the step's: when it succeeded there, its verification. */
function promotionFacts(
  events: readonly ThreadEvent[],
  config: RepoConfig,
  action: ReturnType<typeof deployActionOf>,
): PolicyFacts["promotion"] {
  const index = action ? config.environments.findIndex((e) => e.name === action.environment) : -1;
  if (!action || index < 1) return undefined;
  const previous = config.environments[index - 1]!.name;
  return promotionOf(events, { component: action.component, environment: previous, sha: action.sha });
}

/** A successful CI state older than this is looked up again before a deploy is judged. */
export const CI_FRESH_MS = 10 * 60_000;
/**
 * Any other CI state (failed, pending, none) is looked up again once it is older than this: CI may
 * have been re-run. Within it, a step re-judged in the same run does not ask GitHub twice.
 */
export const CI_RECHECK_MS = 60_000;

export interface FactDeps {
  store: Store;
  octokitFor(installationId: number): Promise<Octokit>;
  clock: () => Date;
  log: Log;
}

export interface GatheredFacts {
  facts: PolicyFacts;
  /** What the lookups found that the thread did not know yet: to append with the verdict. */
  observed: NewEvent[];
  /** The lock of the step's place, unless it was stale and released here. */
  lock: Lock | null;
}

/** How long a lock may exist without its step being recorded before it counts as left by a crash. */
const LOCK_GRACE_MS = 60_000;

/** A lock whose holder is finished, or never recorded the step it took the lock for, is stale. */
async function isStaleLock(deps: FactDeps, lock: Lock): Promise<boolean> {
  const holder = await deps.store.getThread(lock.threadId);
  const state = holder ? deriveState(holder.events) : null;
  if (state?.terminal) return true;
  const inFlight = state?.inFlight?.authorized;
  if (inFlight && inFlight.data.lock_key === lock.key) return false;
  return deps.clock().getTime() - Date.parse(lock.acquiredAt) > LOCK_GRACE_MS;
}

/** The lock of a place, releasing it first when a crashed or finished thread left it. */
async function currentLock(deps: FactDeps, thread: Thread, lockKey: string): Promise<Lock | null> {
  const lock = await deps.store.getLock(lockKey);
  if (lock && lock.threadId !== thread.id && (await isStaleLock(deps, lock))) {
    deps.log.warn(
      { thread: thread.id, holder: lock.threadId },
      `lock ${lock.key} was left by a step that never ran; releasing it`,
    );
    await deps.store.releaseLock(lock.key, lock.threadId);
    return null;
  }
  return lock;
}

/** A recorded CI state recent enough to judge on without asking GitHub again. */
function ciIsFresh(recorded: ThreadEvent | undefined, now: Date): boolean {
  if (recorded?.type !== "ci_state") return false;
  const age = now.getTime() - Date.parse(recorded.at);
  return age < (recorded.data.state === "success" ? CI_FRESH_MS : CI_RECHECK_MS);
}

function sameCi(a: EventDataOf<"ci_state">, b: EventDataOf<"ci_state">): boolean {
  return a.state === b.state && a.summary === b.summary;
}

/**
 * Gathers the facts for judging `step`: deploybot's history of the place, its lock (releasing a
 * stale one), the commit's CI state when the environment checks CI and the recorded one may be
 * stale, and GitHub's comparison of the step's commit with the one running there.
 */
export async function gatherPolicyFacts(
  deps: FactDeps,
  thread: Thread,
  step: NextStep,
  approved: boolean,
  state: ThreadState = deriveState(thread.events),
): Promise<GatheredFacts> {
  const action = deployActionOf(step);
  const now = deps.clock();
  if (!action) {
    return { facts: factsFromEvents(thread, step, approved, {}, state, now), observed: [], lock: null };
  }
  const config: RepoConfig = configOf(thread.events)!;
  const ref = repoRefOf(thread.repo);

  const history = await deps.store.successfulDeployments(thread.repo, {
    component: action.component,
    environment: action.environment,
    limit: 50,
  });
  const prOfThread: Record<string, number> = {};
  const newest = history[0];
  if (newest && newest.threadId !== thread.id) {
    const holder = await deps.store.getThread(newest.threadId);
    const merged = holder ? lastOf(holder.events, "pr_merged") : undefined;
    if (merged?.data.merge_sha === newest.sha) prOfThread[newest.threadId] = merged.data.number;
  }
  const lock = await currentLock(deps, thread, lockKeyOf(thread.repo, action.component, action.environment));
  const observedFacts: Observed = { history, prOfThread };

  const observed: NewEvent[] = [];
  let octokit: Octokit | null = null;
  const github = async () => (octokit ??= await deps.octokitFor(thread.installationId));

  const environment = config.environments.find((e) => e.name === action.environment);
  if (action.kind === "deploy" && environment && environment.ci !== "ignore") {
    const recorded = recordedCi(thread.events, action.sha);
    if (!ciIsFresh(recorded, deps.clock())) {
      const fresh = await ciState(await github(), ref, action.sha);
      if (!recorded || !sameCi(recorded.data, fresh)) observed.push(newEvent("ci_state", fresh));
    }
  }

  const running = runningAt(thread.events, action.component, action.environment, observedFacts);
  if (
    action.kind === "deploy" &&
    running &&
    running.sha !== action.sha &&
    !recordedComparison(thread.events, running.sha, action.sha)
  ) {
    const comparison = await compareCommits(await github(), ref, running.sha, action.sha);
    if (comparison) observed.push(newEvent("commits_compared", comparison));
  }

  const known: Thread = observed.length
    ? {
        ...thread,
        events: [
          ...thread.events,
          ...observed.map(
            (event, index) =>
              ({
                ...event,
                seq: (thread.events.at(-1)?.seq ?? 0) + index + 1,
                at: deps.clock().toISOString(),
              }) as ThreadEvent,
          ),
        ],
      }
    : thread;
  // The lookups add CI states and comparisons, which leave the thread's state as it was.
  const facts = factsFromEvents(known, step, approved, observedFacts, state, now);
  // A person's lock holds every step to its place (rollbacks included): read fresh for each judgement.
  const manualLocks = await deps.store.listManualLocks(thread.repo);
  return { facts: { ...facts, lockHolder: lock?.threadId ?? null, manualLocks }, observed, lock };
}
