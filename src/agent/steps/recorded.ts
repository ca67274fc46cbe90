import { newEvent } from "../../thread/events.js";
import type { Plan } from "../loop.js";
import { record, type StepRun } from "./step-run.js";

/** Steps that only record what code decided: an expiry, a question for a human, the thread's end. */

export async function expireApprovalStep(
  run: StepRun,
  plan: Extract<Plan, { kind: "expire_approval" }>,
): Promise<void> {
  run.deps.log.info({ thread: run.view.thread.id }, `approval ${plan.approvalId} expired without a decision`);
  await record(run, [newEvent("approval_expired", { approval_id: plan.approvalId })]);
}

export async function escalateStep(run: StepRun, plan: Extract<Plan, { kind: "escalate" }>): Promise<void> {
  run.deps.log.warn({ thread: run.view.thread.id }, `thread needs a human: ${plan.reason}`);
  await record(run, [newEvent("human_needed", { question: plan.question, reason: plan.reason })]);
}

export async function finishStep(run: StepRun, plan: Extract<Plan, { kind: "finish" }>): Promise<void> {
  run.deps.log.info({ thread: run.view.thread.id }, plan.message);
  await record(run, [newEvent("done", { message: plan.message, by: "code" })]);
}
