import { z } from "zod";
import { appendUnlessMoved, withAppended } from "../agent/append.js";
import { advanceThread } from "../agent/runner.js";
import type { LoopDeps } from "../agent/loop-deps.js";
import { newEvent, type NewEvent } from "../thread/events.js";
import { deriveState } from "../thread/state.js";
import { startRequestThread } from "./requests.js";
import { clip, repoRefOf } from "../thread/text.js";

/** What the worker does with REST API requests: launch a thread from words, pause, resume, cancel, answer. */

/** The inbox kinds of REST API (and dashboard) requests (stored rows carry these strings). */
export const API_KINDS = { launch: "api.launch", control: "api.control" } as const;

export const ApiLaunch = z.object({
  thread_id: z.string(),
  repo: z.string(),
  /** Null when the route had not seen the repository: the worker asks GitHub for the installation. */
  installation_id: z.number().int().nullable(),
  text: z.string().min(1),
  client: z.string(),
  /** A break-glass declared with the launch (`break_glass` in the body). */
  break_glass: z.object({ reason: z.string().min(1), environment: z.string().nullable() }).optional(),
});
export type ApiLaunch = z.infer<typeof ApiLaunch>;

export const ApiControl = z.object({
  thread_id: z.string(),
  action: z.enum(["pause", "resume", "cancel", "answer"]),
  client: z.string(),
  reason: z.string().nullable().optional(),
  answer: z.string().optional(),
});
export type ApiControl = z.infer<typeof ApiControl>;

export async function launchFromApi(deps: LoopDeps, launch: ApiLaunch): Promise<string> {
  if (await deps.store.getThreadSummary(launch.thread_id)) {
    await advanceThread(deps, launch.thread_id);
    return `thread ${launch.thread_id}`;
  }
  const installationId =
    launch.installation_id ?? (deps.installationOf ? await deps.installationOf(launch.repo) : null);
  if (installationId === null) {
    return failLaunch(
      deps,
      launch,
      0,
      `deploybot is not installed on ${launch.repo}: install the GitHub App there (or check the name)`,
    );
  }
  const origin = {
    source: "api" as const,
    slackUser: null,
    channel: null,
    ts: null,
    requestedBy: launch.client,
  };
  const started = await startRequestThread(deps, {
    threadId: launch.thread_id,
    repo: launch.repo,
    installationId,
    text: launch.text,
    origin,
    ...(launch.break_glass
      ? { breakGlass: { by: launch.client, channel: "api" as const, ...launch.break_glass } }
      : {}),
  });
  if (!started.ok) return failLaunch(deps, launch, installationId, started.problem);
  deps.log.info(
    { thread: launch.thread_id, repo: launch.repo },
    `API client ${launch.client} started a thread`,
  );
  return `thread ${launch.thread_id}`;
}

/** The caller follows the thread it was given: a launch that cannot start says why on it. */
async function failLaunch(
  deps: LoopDeps,
  launch: ApiLaunch,
  installationId: number,
  problem: string,
): Promise<string> {
  const { owner, repo } = repoRefOf(launch.repo);
  await deps.store.createThread(
    {
      id: launch.thread_id,
      repo: launch.repo,
      installationId,
      title: clip(`${launch.repo}: ${launch.text}`, 200),
    },
    [
      newEvent("chat_request", {
        text: clip(launch.text, 2_000),
        slack_user: null,
        channel: null,
        ts: null,
        source: "api",
        requested_by: launch.client,
        installation_id: installationId,
        owner,
        repo,
      }),
      newEvent("failed", { reason: clip(problem, 1_000) }),
    ],
    deps.clock(),
  );
  return `failed: ${problem}`;
}

export async function controlFromApi(deps: LoopDeps, control: ApiControl): Promise<string> {
  return controlThread(deps, {
    threadId: control.thread_id,
    action: control.action,
    by: `api:${control.client}`,
    reason: control.reason ?? null,
    ...(control.answer !== undefined ? { answer: control.answer } : {}),
  });
}

/**
 * Pause, resume, cancel or answer a thread, for a human named by `by` (`api:ci`, `github:octocat`).
 * Returns a note: `<action> applied`, or `skipped: ...` saying why it does not apply.
 */
export async function controlThread(
  deps: LoopDeps,
  control: {
    threadId: string;
    action: "pause" | "resume" | "cancel" | "answer";
    by: string;
    reason: string | null;
    answer?: string;
  },
): Promise<string> {
  await deps.own?.(control.threadId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const thread = await deps.store.getThread(control.threadId);
    if (!thread) return `skipped: no thread ${control.threadId}`;
    const state = deriveState(thread.events);
    if (state.terminal) return `skipped: thread is ${state.status}`;
    const by = control.by;
    let event: NewEvent | null = null;
    if (control.action === "pause" && !state.paused) {
      event = newEvent("paused", { by, reason: control.reason });
    } else if (control.action === "resume" && state.paused) {
      event = newEvent("resumed", { by });
    } else if (control.action === "cancel") {
      event = newEvent("cancelled", { by, reason: control.reason });
    } else if (control.action === "answer" && state.pendingQuestion && control.answer) {
      event = newEvent("human_answered", { answer: clip(control.answer, 2_000), slack_user: null });
    }
    if (!event) return `skipped: ${control.action} does not apply to a ${state.status} thread`;
    const appended = await appendUnlessMoved(deps, thread, [event]);
    if (!appended) continue;
    deps.log.info({ thread: thread.id }, `${control.action} by ${by}`);
    await advanceThread(deps, thread.id, withAppended(thread, appended));
    return `${control.action} applied`;
  }
  throw new Error(`thread ${control.threadId} kept changing; retrying`);
}
