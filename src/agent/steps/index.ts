import type { Plan } from "../loop.js";
import { abandonDeployment } from "./abandon.js";
import { decideStep } from "./decide.js";
import { createDeploymentStep } from "./deploy.js";
import { dispatchStep } from "./dispatch.js";
import { dispatchRunStep } from "./dispatch-run.js";
import { judgeStep } from "./judge.js";
import { notifyStep } from "./notify.js";
import { syncPrComment } from "./pr-comment.js";
import { escalateStep, expireApprovalStep, finishStep } from "./recorded.js";
import type { StepRun } from "./step-run.js";
import { deployTimeoutStep, runTimeoutStep } from "./timeouts.js";
import { dispatchVerifyStep, verifyTimeoutStep } from "./verify.js";

/** A plan that does something (the others make the run stop). */
export type ActionPlan = Exclude<Plan, { kind: "idle" | "wait" }>;

type Executors = {
  [K in ActionPlan["kind"]]: (
    run: StepRun,
    plan: Extract<ActionPlan, { kind: K }>,
  ) => Promise<"settled" | void>;
};

/** What each kind of plan does at the edge; "settled" when the thread must wait after all. */
const EXECUTORS: Executors = {
  decide: decideStep,
  notify: (run, plan) => notifyStep(run, plan.notification),
  judge: (run, plan) => judgeStep(run, plan.step, plan.approved),
  create_deployment: (run, plan) => createDeploymentStep(run, plan.authorized),
  dispatch: (run, plan) => dispatchStep(run, plan.authorized, plan.created),
  dispatch_run: (run, plan) => dispatchRunStep(run, plan.authorized),
  deploy_timeout: deployTimeoutStep,
  run_timeout: runTimeoutStep,
  abandon_deployment: (run, plan) => abandonDeployment(run, plan.authorized, plan.created, plan.reason),
  pr_comment: (run, plan) => syncPrComment(run, plan.sync),
  expire_approval: expireApprovalStep,
  escalate: escalateStep,
  finish: finishStep,
  dispatch_verify: dispatchVerifyStep,
  verify_timeout: verifyTimeoutStep,
};

export function executeStep(run: StepRun, plan: ActionPlan): Promise<"settled" | void> {
  const execute = EXECUTORS[plan.kind] as (run: StepRun, plan: ActionPlan) => Promise<"settled" | void>;
  return execute(run, plan);
}
