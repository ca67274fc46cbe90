import { newEvent } from "../../thread/events.js";
import { describeStep } from "../../thread/next-step.js";
import type { Plan } from "../loop.js";
import { record, type StepRun } from "./step-run.js";
import { clip } from "../../thread/text.js";

/** Asks the decider for the next step and records its answer, or why it could not be used. */
export async function decideStep(run: StepRun, plan: Extract<Plan, { kind: "decide" }>): Promise<void> {
  const { deps } = run;
  const { thread } = run.view;
  const result = await deps.decider.decide({ thread, config: plan.config });
  if (result.ok) {
    deps.log.info(
      {
        thread: thread.id,
        intent: result.step.intent,
        decider: result.meta.decider,
        ms: result.meta.latency_ms,
      },
      `decided ${describeStep(result.step)}`,
    );
    await record(run, [newEvent("decision", { ...result.meta, step: result.step })]);
  } else {
    deps.log.warn({ thread: thread.id, decider: result.meta.decider }, `unusable decision: ${result.error}`);
    await record(run, [newEvent("decision_error", { ...result.meta, error: clip(result.error, 500) })]);
  }
}
