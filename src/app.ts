import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, Probot } from "probot";
import type { Log } from "./log.js";
import type { Store } from "./store/store.js";
import { compactWebhook, WEBHOOK_KINDS } from "./pipeline/handlers.js";
import { clip } from "./thread/text.js";

/**
 * The Probot app: GitHub events go to the durable inbox and nowhere else. The server's guard
 * verifies the signature and parses the body once, then hands the event to `queueWebhook`, which
 * stores it and returns (no per-event Octokit is made: nothing here calls GitHub); the worker does
 * the rest. No GitHub, model or Slack call happens inside a request.
 */

/** The GitHub events handled, as `event.action`: those the worker's table of handlers has. */
export const HANDLED_EVENTS = WEBHOOK_KINDS;

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface AppDeps {
  store: Store;
  clock: () => Date;
  /** Extra HTTP routes (health, Slack, REST), tried in order; built with the app, for its logger. */
  routes?: (app: Probot) => RouteHandler[];
  /** Called once the app is loaded with a configured GitHub App: the place to start the worker. */
  onReady?: (app: Probot) => void | Promise<void>;
}

/** A GitHub event as it arrived: its delivery id, its name (`pull_request`) and its payload. */
export interface WebhookEvent {
  id: string;
  name: string;
  payload: object;
}

/** The app, and the one way a verified webhook reaches the inbox (the server calls it directly). */
export type DeploybotApp = ApplicationFunction & {
  queueWebhook(event: WebhookEvent, log: Pick<Log, "debug">): Promise<void>;
};

/**
 * Writes a handled event to the inbox as the compact entry its handler reads; an event that needs
 * nothing (a PR closed unmerged, a comment without a command or by a bot) is dropped with a debug line.
 */
async function queueWebhook(deps: AppDeps, event: WebhookEvent, log: Pick<Log, "debug">): Promise<void> {
  const payload = event.payload as {
    action?: string;
    pull_request?: { merged?: boolean };
    comment?: Parameters<typeof commentSkipReason>[0];
    repository?: { full_name?: string } | null;
  };
  const kind = `${event.name}.${payload.action}`;
  if (!(HANDLED_EVENTS as readonly string[]).includes(kind)) return;
  if (event.name === "pull_request" && payload.pull_request && !payload.pull_request.merged) {
    log.debug({ delivery: event.id }, "pull request closed without merging: nothing to deploy");
    return;
  }
  if (event.name === "issue_comment" && payload.comment) {
    const skip = commentSkipReason(payload.comment);
    if (skip) {
      log.debug({ delivery: event.id }, skip);
      return;
    }
  }
  const stored = await deps.store.enqueue(
    {
      deliveryId: event.id,
      source: "github",
      kind,
      payload: compactWebhook(kind, event.payload),
      partition: payload.repository?.full_name ?? null,
    },
    deps.clock(),
  );
  log.debug({ delivery: event.id, event: kind }, stored ? "queued" : "redelivery of a queued event ignored");
}

export function createApp(deps: AppDeps): DeploybotApp {
  const application: ApplicationFunction = async (app, options) => {
    // Events given to Probot (tests, or a server without the direct path) take the same way in.
    app.on([...HANDLED_EVENTS], (context) =>
      queueWebhook(deps, { id: context.id, name: context.name, payload: context.payload }, app.log),
    );

    for (const route of deps.routes?.(app) ?? []) options.addHandler(route);
    await deps.onReady?.(app);
  };
  return Object.assign(application, {
    queueWebhook: (event: WebhookEvent, log: Pick<Log, "debug">) => queueWebhook(deps, event, log),
  });
}

/** Why a new comment is none of deploybot's business, or null: only `/deploybot` lines by people count. */
function commentSkipReason(comment: {
  body?: string | null;
  user?: { type?: string; login?: string } | null;
}): string | null {
  if (comment.user?.type === "Bot" || comment.user?.login?.endsWith("[bot]"))
    return "a comment by a bot: ignored";
  if (!/^\/deploybot(\s|$)/m.test(comment.body ?? ""))
    return "a comment without a /deploybot command: ignored";
  return null;
}

/** `GET /healthz`: the process is up and its database answers. */
export function healthRoute(store: Store): RouteHandler {
  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/healthz") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "application/json" });
      res.end(JSON.stringify({ error: "method not allowed" }));
      return true;
    }
    try {
      const inbox = await store.inboxCounts();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", inbox }));
    } catch (error) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "unavailable", error: `database: ${clip(String(error), 200)}` }));
    }
    return true;
  };
}
