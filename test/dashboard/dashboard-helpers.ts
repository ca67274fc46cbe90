import type { Store } from "../../src/store/store.js";
import { newEvent, type NewEvent } from "../../src/thread/events.js";
import { httpRequest } from "../helpers/http.js";
import { API_TOKEN } from "../helpers/app-server.js";
import {
  deployRun,
  deployStep,
  INSTALLATION_ID,
  MERGE_SHA,
  mergeStart,
  on,
  OWNER,
  REPO,
} from "../helpers/thread-builder.js";

/** Threads and deployments placed in the store as the worker would leave them, for dashboard pages. */

export const basic = (token: string = API_TOKEN) => ({
  authorization: `Basic ${Buffer.from(`me:${token}`).toString("base64")}`,
});

export async function putThread(
  store: Store,
  id: string,
  events: NewEvent[],
  options: { repo?: string; title?: string; at?: Date } = {},
): Promise<void> {
  await store.createThread(
    {
      id,
      repo: options.repo ?? `${OWNER}/${REPO}`,
      installationId: INSTALLATION_ID,
      title: options.title ?? `${OWNER}/${REPO}#7: Speed up the checkout API`,
    },
    events,
    options.at ?? new Date("2026-11-24T11:00:00Z"),
  );
}

/** A thread that deployed backend to staging and now waits for approval to go to production. */
export function waitingForProduction(): NewEvent[] {
  return [
    ...mergeStart(),
    on.deployed({ "backend/staging": null, "backend/production": null }),
    on.ci(),
    on.decision(deployStep("backend", "staging")),
    ...deployRun("backend", "staging", "success", { deploymentId: 1001 }),
    on.decision(deployStep("backend", "production")),
    on.approvalRequested(deployStep("backend", "production"), "ap_prod"),
  ];
}

export async function recordSuccess(
  store: Store,
  threadId: string,
  environment: string,
  deploymentId: number,
  at: Date,
): Promise<void> {
  await store.recordDeployment(
    {
      deploymentId,
      repo: `${OWNER}/${REPO}`,
      component: "backend",
      environment,
      sha: MERGE_SHA,
      threadId,
      stepSeq: 6,
      createdAt: at.toISOString(),
    },
    at,
  );
  await store.finishDeployment(deploymentId, "success", at);
}

export function get(base: string, path: string, headers: Record<string, string> = basic()) {
  return httpRequest(`${base}${path}`, { headers });
}

/** A form post as a browser sends it from the dashboard's own page. */
export function post(
  base: string,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = basic(),
) {
  return httpRequest(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: base,
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The CSRF token in a page's forms. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF field on the page");
  return match[1]!;
}

export const pausedEvent = newEvent("paused", { by: "api:ci", reason: null });
