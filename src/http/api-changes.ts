import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Store } from "../store/store.js";
import type { Thread } from "../thread/events.js";
import { configOf, deriveState, type ThreadState } from "../thread/state.js";
import { deployActionOf } from "../thread/next-step.js";
import { approverVerdict } from "../agent/approvers.js";
import { API_KINDS, type ApiControl, type ApiLaunch } from "../pipeline/api-inbox.js";
import { API_DECISION_KIND, type ApiDecision } from "../pipeline/approvals.js";
import {
  AnswerBody,
  API_PREFIX,
  ApproveBody,
  ControlBody,
  LaunchBody,
  MAX_API_BODY_BYTES,
  RejectBody,
} from "./api-schemas.js";
import { HttpError, readJsonBody } from "./body.js";
import { applyOnce } from "./idempotency.js";

/**
 * The REST API's changes: a launch, a control (pause, resume, cancel, answer) and an approval
 * decision. Each is checked against the thread now, so the caller hears a refusal at once, and
 * queued in the inbox like a webhook (202 Accepted), once per `Idempotency-Key`.
 */

export interface ApiChangeDeps {
  store: Store;
  clock: () => Date;
  /**
   * Launches for repositories deploybot has not seen yet are queued, and the worker asks GitHub
   * for the app's installation there; without it, such a launch is a 404.
   */
  lookUpInstallations?: boolean;
}

/** The thread a launch creates: known before the worker runs, so the caller can follow it. */
export function threadIdForLaunch(deliveryId: string): string {
  return `th_${createHash("sha256").update(deliveryId).digest("hex").slice(0, 20)}`;
}

export async function launch(deps: ApiChangeDeps, client: string, req: IncomingMessage, res: ServerResponse) {
  const body = await readJsonBody(req, LaunchBody, MAX_API_BODY_BYTES);
  const request = { method: "POST", route: `${API_PREFIX}threads`, body };
  return applyOnce(deps, client, req, res, request, async (deliveryId) => {
    const installation = await deps.store.getRef(`repo:${body.repo.toLowerCase()}`);
    if (!installation && !deps.lookUpInstallations) {
      throw new HttpError(404, `deploybot does not know ${body.repo}: install the app there and merge once`);
    }
    const threadId = threadIdForLaunch(deliveryId);
    const stored = await deps.store.enqueue(
      {
        deliveryId,
        source: "api",
        kind: API_KINDS.launch,
        payload: {
          thread_id: threadId,
          repo: body.repo,
          installation_id: installation ? Number(installation) : null,
          text: body.text,
          client,
          ...(body.break_glass
            ? {
                break_glass: {
                  reason: body.break_glass.reason,
                  environment: body.break_glass.environment ?? null,
                },
              }
            : {}),
        } satisfies ApiLaunch,
      },
      deps.clock(),
    );
    return { stored, answer: { status: 202, body: { thread_id: threadId, accepted: true } } };
  });
}

/** A thread a change may act on: 404 when there is none, 409 when it has ended. */
async function openThread(store: Store, id: string): Promise<{ thread: Thread; state: ThreadState }> {
  const thread = await store.getThread(id);
  if (!thread) throw new HttpError(404, `no thread ${id}`);
  const state = deriveState(thread.events);
  if (state.terminal) throw new HttpError(409, `thread ${id} is ${state.status}`);
  return { thread, state };
}

/** `POST /api/v1/threads/{id}/pause`, `/resume`, `/cancel` and `/answer`. */
export async function control(
  deps: ApiChangeDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  action: ApiControl["action"],
) {
  const body =
    action === "answer"
      ? await readJsonBody(req, AnswerBody, MAX_API_BODY_BYTES)
      : await readJsonBody(req, ControlBody, MAX_API_BODY_BYTES);
  const request = { method: "POST", route: `${API_PREFIX}threads/${id}/${action}`, body };
  return applyOnce(deps, client, req, res, request, async (deliveryId) => {
    const { state } = await openThread(deps.store, id);
    let payload: ApiControl;
    if ("answer" in body) {
      if (!state.pendingQuestion)
        throw new HttpError(409, `thread ${id} is not waiting for an answer (${state.status})`);
      payload = { thread_id: id, action, client, answer: body.answer };
    } else {
      if (action === "resume" && !state.paused) throw new HttpError(409, `thread ${id} is not paused`);
      if (action === "pause" && state.paused) throw new HttpError(409, `thread ${id} is already paused`);
      payload = { thread_id: id, action, client, reason: body.reason ?? null };
    }
    const stored = await deps.store.enqueue(
      { deliveryId, source: "api", kind: API_KINDS.control, payload },
      deps.clock(),
    );
    return { stored, answer: { status: 202, body: { thread_id: id, action, accepted: true } } };
  });
}

/**
 * `POST /api/v1/threads/{id}/approve` and `/reject`: for tokens listed as `api:<name>` approvers of
 * the environment the thread waits on. Checked here so the caller hears a refusal at once; the
 * worker judges the decision again as of when it was received (the first valid decision wins).
 */
export async function decide(
  deps: ApiChangeDeps,
  client: string,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  decision: "approve" | "reject",
) {
  const body =
    decision === "reject"
      ? await readJsonBody(req, RejectBody, MAX_API_BODY_BYTES)
      : await readJsonBody(req, ApproveBody, MAX_API_BODY_BYTES);
  const request = { method: "POST", route: `${API_PREFIX}threads/${id}/${decision}`, body };
  return applyOnce(deps, client, req, res, request, async (deliveryId) => {
    const { thread, state } = await openThread(deps.store, id);
    const pending = state.pendingApproval;
    const action = pending ? deployActionOf(pending.data.step) : null;
    const config = configOf(thread.events);
    if (!pending || !action || !config)
      throw new HttpError(409, `thread ${id} is not waiting for an approval (${state.status})`);
    const verdict = approverVerdict({
      config,
      environment: action.environment,
      decider: { channel: "api", client },
      decision,
      prAuthor: null,
    });
    if (!verdict.ok) throw new HttpError(403, verdict.reason);
    const payload: ApiDecision = {
      thread_id: id,
      decision,
      reason: "reason" in body ? body.reason : null,
      client,
      channel: "api",
      received_at: deps.clock().toISOString(),
    };
    const stored = await deps.store.enqueue(
      { deliveryId, source: "api", kind: API_DECISION_KIND, payload },
      deps.clock(),
    );
    return {
      stored,
      answer: {
        status: 202,
        body: { thread_id: id, decision, approval_id: pending.data.approval_id, accepted: true },
      },
    };
  });
}
