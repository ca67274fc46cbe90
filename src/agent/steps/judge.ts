import { randomUUID } from "node:crypto";
import { environmentIndex } from "../../config/repo-config.js";
import { newEvent } from "../../thread/events.js";
import { deployActionOf, describeStep, type NextStep } from "../../thread/next-step.js";
import { lastSeqOf } from "../append.js";
import { unreachableApproval } from "../approvers.js";
import { eventsForVerdict } from "../loop.js";
import { judge, lockKeyOf, type Verdict } from "../policy.js";
import { gatherPolicyFacts, type GatheredFacts } from "../policy-facts.js";
import { record, type StepRun } from "./step-run.js";
import { clip } from "../../thread/text.js";

/**
 * The policy's verdict on a step, with the lock of an allowed deploy taken. The lock is taken once,
 * after the policy allowed the step on the lock as it was seen; when another thread took it in
 * between, that holder is a fact like any other and the policy's verdict on it (wait) is recorded.
 * `taken` says whether this call took the lock (to give back if the verdict cannot be recorded).
 */
async function judgeWithLock(
  run: StepRun,
  step: NextStep,
  gathered: GatheredFacts,
  stepSeq: number,
): Promise<{ verdict: Verdict; taken: string | null }> {
  const { deps } = run;
  const verdict = judge(step, gathered.facts);
  if (verdict.kind !== "allow" || !verdict.action || !verdict.lockKey) return { verdict, taken: null };
  const threadId = run.view.thread.id;
  const result = await deps.store.acquireLock(verdict.lockKey, { threadId, stepSeq }, deps.clock());
  if (result.acquired) return { verdict, taken: gathered.lock ? null : verdict.lockKey };
  return { verdict: judge(step, { ...gathered.facts, lockHolder: result.holder.threadId }), taken: null };
}

/** Judges a step and records the verdict; "settled" when the step still waits and nothing changed. */
export async function judgeStep(run: StepRun, step: NextStep, approved: boolean): Promise<"settled" | void> {
  const { deps } = run;
  const { thread, state } = run.view;
  const config = run.view.config!;
  const gathered = await gatherPolicyFacts(deps, thread, step, approved, state);
  const stepSeq = lastSeqOf(thread) + gathered.observed.length + 1;
  const { verdict, taken } = await judgeWithLock(run, step, gathered, stepSeq);

  const action = deployActionOf(step);
  const environment = action ? config.environments[environmentIndex(config, action.environment)] : undefined;
  const expiresAfter = environment?.approval_expires_after ?? null;
  // An approval nobody can give would wait forever: say so at once instead.
  const unreachable =
    verdict.kind === "needs_approval" && action
      ? unreachableApproval(config, action.environment, { slack: Boolean(deps.slack && config.slack) })
      : null;
  const events = unreachable
    ? [newEvent("failed", { reason: clip(unreachable, 1_000) })]
    : eventsForVerdict(step, verdict, {
        approvalId: (deps.newId ?? (() => `ap_${randomUUID().replaceAll("-", "").slice(0, 20)}`))(),
        deferred: state.deferred?.data ?? null,
        expiresAt:
          expiresAfter === null ? null : new Date(deps.clock().getTime() + expiresAfter).toISOString(),
      });
  try {
    await record(run, [...gathered.observed, ...events]);
  } catch (error) {
    if (taken) await deps.store.releaseLock(taken, thread.id);
    throw error;
  }
  const recorded = events[0];
  if (!recorded) {
    const lockKey = action ? lockKeyOf(thread.repo, action.component, action.environment) : null;
    deps.log.debug({ thread: thread.id }, `still waiting for lock ${lockKey}`);
    return "settled";
  }
  if (recorded.type === "policy_refused") {
    deps.log.info({ thread: thread.id }, `policy refused ${describeStep(step)}: ${recorded.data.reason}`);
  } else if (recorded.type === "human_needed") {
    deps.log.warn({ thread: thread.id }, `thread asks a human: ${recorded.data.question}`);
  } else if (recorded.type === "approval_requested") {
    await deps.store.setRef(`approval:${recorded.data.approval_id}`, thread.id, deps.clock());
    deps.log.info(
      { thread: thread.id },
      `approval ${recorded.data.approval_id} requested for ${describeStep(step)}`,
    );
  }
}
