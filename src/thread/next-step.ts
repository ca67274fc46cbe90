import { z } from "zod";
import { clip, short } from "./text.js";

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

/**
 * A commit as an answer may name it: a full SHA (always accepted), a label the context defines
 * (`merge`, `tip`, `previous`), or a short SHA of a commit the thread names. Code resolves it to a
 * full SHA before the step is checked and stored.
 */
export const AnswerCommit = z.union([
  Sha,
  z.enum(["merge", "tip", "previous"]),
  z.string().regex(/^[0-9a-f]{7,39}$/, "a short SHA of a commit the thread names"),
]);

/** The model output contract as other programs see it: the four shapes, commits as above. */
export const AnswerStep = z.union([
  RollbackStep.extend({ to_sha: AnswerCommit }),
  AskHumanStep,
  DoneStep,
  DeployStep.extend({ sha: AnswerCommit }),
]);
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

/** A step in a few words, for logs and replay: "deploy backend 0123456 to staging". */
export function describeStep(step: NextStep): string {
  const action = deployActionOf(step);
  if (action) return `${action.kind} ${action.component} ${short(action.sha)} to ${action.environment}`;
  if (step.intent === "ask_human" && "question" in step) return `ask_human "${clip(step.question, 80)}"`;
  if (step.intent === "done_for_now" && "message" in step) return `done_for_now "${clip(step.message, 80)}"`;
  return step.intent;
}

/** Turns a commit as an answer names it (a label, a short SHA) into a full SHA, or says why not. */
export type CommitResolver = (
  value: string,
  place: { component: string; environment: string } | null,
) => { ok: true; sha: string } | { ok: false; error: string };

/**
 * Replaces a commit the answer names by a label or a short SHA (`sha` of a deploy, `to_sha` of a
 * rollback) with the full SHA the thread's events define; a full SHA stays as it is.
 */
function withResolvedCommit(
  raw: unknown,
  resolveCommit: CommitResolver,
): { ok: true; raw: unknown } | { ok: false; error: string } {
  if (typeof raw !== "object" || raw === null) return { ok: true, raw };
  const answer = raw as Record<string, unknown>;
  const field = answer.intent === "rollback" ? "to_sha" : "sha";
  const value = answer[field];
  if (typeof value !== "string" || /^[0-9a-f]{40}$/.test(value)) return { ok: true, raw };
  const component =
    answer.intent === "rollback"
      ? answer.component
      : typeof answer.intent === "string"
        ? answer.intent.replace(/^deploy_/, "")
        : undefined;
  const place =
    typeof component === "string" && typeof answer.environment === "string"
      ? { component, environment: answer.environment }
      : null;
  const resolved = resolveCommit(value, place);
  if (!resolved.ok) return { ok: false, error: `${field}: ${resolved.error}` };
  return { ok: true, raw: { ...answer, [field]: resolved.sha } };
}

/**
 * Checks a raw answer against the generic schema and against the names the config knows; with a
 * resolver (from the thread's events), a commit named by a label or a short SHA is resolved first.
 * Returns the step or a compact, model-readable error.
 */
export function parseNextStep(
  answer: unknown,
  known: { components: string[]; environments: string[] },
  resolveCommit?: CommitResolver,
): { ok: true; step: NextStep } | { ok: false; error: string } {
  let raw = answer;
  if (resolveCommit) {
    const resolved = withResolvedCommit(answer, resolveCommit);
    if (!resolved.ok) return resolved;
    raw = resolved.raw;
  }
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
      error: `unknown intent ${clip(JSON.stringify(intent ?? null), 60)}; expected one of ${allowed.join(", ")}`,
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
        error: `unknown component "${clip(action.component, 40)}"; known: ${known.components.join(", ")}`,
      };
    }
    if (!known.environments.includes(action.environment)) {
      return {
        ok: false,
        error: `unknown environment "${clip(action.environment, 40)}"; known: ${known.environments.join(", ")}`,
      };
    }
  }
  return { ok: true, step };
}
