import { AppendConflictError } from "../store/store.js";
import type { Thread } from "../thread/events.js";
import { viewOf } from "../thread/view.js";
import type { LoopDeps } from "./loop-deps.js";
import { planNext } from "./loop.js";
import { recordOutage } from "./step-errors.js";
import { executeStep } from "./steps/index.js";
import type { StepRun } from "./steps/step-run.js";

/**
 * Runs a thread forward until it must wait: plan (pure), then do exactly that one thing at the
 * edge, append what happened, and plan again. The thread is read once; each step extends the
 * view with what it appended, and only a conflict (another writer came first) reads it again.
 * Every append is conditional on the last seq this run saw, so two workers can never both act on
 * the same thread state.
 */

const MAX_STEPS_PER_RUN = 30;

async function readThread(deps: LoopDeps, threadId: string): Promise<Thread> {
  const thread = await deps.store.getThread(threadId);
  if (!thread) throw new Error(`thread ${threadId} not found`);
  return thread;
}

/** Advances a thread; `thread`, when the caller holds it as stored, spares reading it again. */
export async function advanceThread(deps: LoopDeps, threadId: string, thread?: Thread): Promise<void> {
  await deps.own?.(threadId);
  const run: StepRun = {
    deps,
    view: viewOf(thread ?? (await readThread(deps, threadId))),
    intentsHere: new Set(),
  };
  for (let step = 0; step < MAX_STEPS_PER_RUN; step++) {
    await deps.own?.(threadId);
    const plan = planNext(run.view, {
      now: deps.clock(),
      notify: Boolean(deps.slack),
      prComments: deps.prComments ?? false,
    });
    if (plan.kind === "idle" || plan.kind === "wait") {
      deps.log.debug(
        { thread: threadId, plan: plan.kind },
        plan.kind === "wait" ? `waiting: ${plan.waitingOn}` : plan.reason,
      );
      return;
    }
    try {
      if ((await executeStep(run, plan)) === "settled") return;
    } catch (error) {
      if (error instanceof AppendConflictError) {
        deps.log.debug({ thread: threadId }, "another worker moved the thread on; planning again");
        run.view = viewOf(await readThread(deps, threadId));
        continue;
      }
      await recordOutage(deps, run.view.thread, error);
      throw error;
    }
  }
  deps.log.warn(
    { thread: threadId },
    `thread did not settle within ${MAX_STEPS_PER_RUN} steps; it resumes on the next event`,
  );
}
