import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, Probot } from "probot";
import type { Store } from "./store/store.js";
import { compactWebhook, WEBHOOK_KINDS } from "./pipeline/handlers.js";
import { clip } from "./thread/text.js";

/**
 * The Probot app: GitHub events go to the durable inbox and nowhere else. A handler verifies
 * (Probot checks the signature before any handler runs), stores and answers; the worker does the
 * rest. No GitHub, model or Slack call happens inside a request.
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

export function createApp(deps: AppDeps): ApplicationFunction {
  return async (app, options) => {
    app.on([...HANDLED_EVENTS], async (context) => {
      const kind = `${context.name}.${context.payload.action}`;
      if (
        context.name === "pull_request" &&
        "pull_request" in context.payload &&
        !context.payload.pull_request.merged
      ) {
        app.log.debug({ delivery: context.id }, "pull request closed without merging: nothing to deploy");
        return;
      }
      if (context.name === "issue_comment" && "comment" in context.payload) {
        const skip = commentSkipReason(context.payload.comment);
        if (skip) {
          app.log.debug({ delivery: context.id }, skip);
          return;
        }
      }
      const stored = await deps.store.enqueue(
        {
          deliveryId: context.id,
          source: "github",
          kind,
          payload: compactWebhook(kind, context.payload),
          partition: "repository" in context.payload ? (context.payload.repository?.full_name ?? null) : null,
        },
        deps.clock(),
      );
      app.log.debug(
        { delivery: context.id, event: kind },
        stored ? "queued" : "redelivery of a queued event ignored",
      );
    });

    for (const route of deps.routes?.(app) ?? []) options.addHandler(route);
    await deps.onReady?.(app);
  };
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
