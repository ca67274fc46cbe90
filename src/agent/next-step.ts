import { z } from "zod";

/**
 * The next step, as the decider answers it. Component names come from the repository's
 * config, so `deploy_<component>` intents are checked against it after this generic parse.
 */

export const Sha = z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-character lowercase hex commit SHA");
const reason = z.string().trim().min(1).max(1_000);

export const DeployStep = z.strictObject({
  intent: z.string().regex(/^deploy_[a-z][a-z0-9_-]*$/),
  environment: z.string().min(1),
  sha: Sha,
  reason,
});

export const RollbackStep = z.strictObject({
  intent: z.literal("rollback"),
  component: z.string().min(1),
  environment: z.string().min(1),
  to_sha: Sha,
  reason,
});

export const AskHumanStep = z.strictObject({
  intent: z.literal("ask_human"),
  question: z.string().trim().min(1).max(2_000),
  reason,
});

export const DoneStep = z.strictObject({
  intent: z.literal("done_for_now"),
  message: z.string().trim().min(1).max(2_000),
});

export const NextStep = z.union([RollbackStep, AskHumanStep, DoneStep, DeployStep]);
export type NextStep = z.infer<typeof NextStep>;
export type DeployStep = z.infer<typeof DeployStep>;
export type RollbackStep = z.infer<typeof RollbackStep>;
export type AskHumanStep = z.infer<typeof AskHumanStep>;
export type DoneStep = z.infer<typeof DoneStep>;

/** A step that changes an environment, normalised: what runs where. */
export interface DeployAction {
  kind: "deploy" | "rollback";
  component: string;
  environment: string;
  sha: string;
  reason: string;
}

export function deployActionOf(step: NextStep): DeployAction | null {
  if (step.intent === "rollback") {
    const s = step as RollbackStep;
    return {
      kind: "rollback",
      component: s.component,
      environment: s.environment,
      sha: s.to_sha,
      reason: s.reason,
    };
  }
  if (step.intent.startsWith("deploy_")) {
    const s = step as DeployStep;
    return {
      kind: "deploy",
      component: s.intent.slice("deploy_".length),
      environment: s.environment,
      sha: s.sha,
      reason: s.reason,
    };
  }
  return null;
}

/**
 * Checks a raw answer against the generic schema and against the names the config knows.
 * Returns the step or a compact, model-readable error.
 */
export function parseNextStep(
  raw: unknown,
  known: { components: string[]; environments: string[] },
): { ok: true; step: NextStep } | { ok: false; error: string } {
  const intent =
    typeof raw === "object" && raw !== null && "intent" in raw
      ? (raw as { intent: unknown }).intent
      : undefined;
  const schema =
    intent === "rollback"
      ? RollbackStep
      : intent === "ask_human"
        ? AskHumanStep
        : intent === "done_for_now"
          ? DoneStep
          : typeof intent === "string" && intent.startsWith("deploy_")
            ? DeployStep
            : null;
  if (!schema) {
    const allowed = [...known.components.map((c) => `deploy_${c}`), "rollback", "ask_human", "done_for_now"];
    return {
      ok: false,
      error: `unknown intent ${JSON.stringify(intent ?? null).slice(0, 60)}; expected one of ${allowed.join(", ")}`,
    };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "answer"}: ${issue.message}`);
    return { ok: false, error: `invalid ${String(intent)} answer: ${problems.join("; ")}` };
  }
  const step = result.data as NextStep;
  const action = deployActionOf(step);
  if (action) {
    if (!known.components.includes(action.component)) {
      return {
        ok: false,
        error: `unknown component "${action.component.slice(0, 40)}"; known: ${known.components.join(", ")}`,
      };
    }
    if (!known.environments.includes(action.environment)) {
      return {
        ok: false,
        error: `unknown environment "${action.environment.slice(0, 40)}"; known: ${known.environments.join(", ")}`,
      };
    }
  }
  return { ok: true, step };
}
