import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteHandler } from "../app.js";
import type { Store } from "../store/store.js";
import { deriveState } from "../thread/state.js";
import { decodePathSegment, HttpError, mediaType, pathOf, readBody } from "./body.js";
import {
  basicViewer,
  formIsGenuine,
  redeemSignInToken,
  SESSION_COOKIE,
  sessionViewer,
  type Viewer,
} from "./dashboard-auth.js";
import { escapeHtml, page, type Layout } from "./dashboard-html.js";
import {
  loadOverview,
  loadThreadList,
  parseListQuery,
  renderOverview,
  renderThreadList,
} from "./dashboard-overview.js";
import { renderThreadPage } from "./dashboard-thread.js";
import { LOCK_ACTIONS, LOCK_DONE_NOTES, queueLockForm, type LockAction } from "./dashboard-locks.js";
import { API_KINDS, type ApiControl } from "../pipeline/api-inbox.js";
import { API_DECISION_KIND, type ApiDecision } from "../pipeline/approvals.js";
import { clip } from "../thread/text.js";

export { escapeHtml };

/**
 * The dashboard under `/threads`: an overview of what runs where, the thread list, one page per
 * thread, and its actions (approve, reject, pause, resume, cancel; lock and unlock on the overview). Pages are rendered on the
 * server and work without JavaScript. A browser signs in with HTTP Basic auth (any user name, an
 * API token from DEPLOYBOT_API_TOKENS as the password) or once through a one-time sign-in link.
 * Actions go to the inbox like every other request, in the signed-in token's name, and only from
 * a form this dashboard rendered (a CSRF token, and the browser's Origin).
 */

export interface DashboardDeps {
  store: Store;
  /** token -> name */
  tokens: ReadonlyMap<string, string>;
  clock?: () => Date;
  /** GitHub's web address for links: `https://github.com` or a GitHub Enterprise Server. */
  githubUrl?: string;
  /** Slack's web address for message links: the origin of SLACK_API_URL. */
  slackUrl?: string;
}

const ACTIONS = ["approve", "reject", "pause", "resume", "cancel"] as const;
type Action = (typeof ACTIONS)[number];
const DONE_NOTES: Record<Action, string> = {
  approve: "Approval sent: deploybot judges it against the approver policy and runs the step.",
  reject: "Rejection sent: deploybot records the reason and plans again.",
  pause: "Pause sent.",
  resume: "Resume sent.",
  cancel: "Cancel sent.",
};

const STALE_FORM =
  "this form did not come from this dashboard (or the page is stale): reload the page and try again";

function send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(html);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location, "cache-control": "no-store", ...headers });
  res.end();
}

function message(res: ServerResponse, status: number, title: string, text: string, viewer?: Viewer): void {
  send(
    res,
    status,
    page(
      { title, viewer: viewer?.name ?? null },
      `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p><a href="/threads">All threads</a></p>`,
    ),
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (mediaType(req) !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "expected a form (application/x-www-form-urlencoded)");
  }
  return new URLSearchParams((await readBody(req, 16 * 1024)).toString("utf8"));
}

export function dashboardRoutes(deps: DashboardDeps): RouteHandler {
  const clock = deps.clock ?? (() => new Date());
  const githubUrl = deps.githubUrl ?? "https://github.com";
  return async (req, res) => {
    const path = pathOf(req);
    if (path !== "/threads" && !path.startsWith("/threads/")) return false;
    try {
      await handle(deps, clock, githubUrl, req, res, path);
    } catch (error) {
      if (res.headersSent) return true;
      if (!(error instanceof HttpError)) throw error;
      message(res, error.status, error.status === 400 ? "Bad request" : "Refused", error.message);
    }
    return true;
  };
}

async function handle(
  deps: DashboardDeps,
  clock: () => Date,
  githubUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? "GET";
  if (deps.tokens.size === 0) {
    return message(res, 503, "Dashboard off", "The dashboard is off: set DEPLOYBOT_API_TOKENS.");
  }
  const url = new URL(req.url ?? "/", "http://dashboard");
  if (path === "/threads/sign-in") {
    if (method !== "GET") throw new HttpError(405, "use GET on /threads/sign-in");
    const signedIn = await redeemSignInToken(deps.store, url.searchParams.get("token") ?? "", clock());
    if (!signedIn) {
      return message(
        res,
        401,
        "Sign-in link not valid",
        "This sign-in link was already used or has expired. Sign in with an API token as the password instead.",
      );
    }
    const secure = req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
    return redirect(res, "/threads/overview", {
      "set-cookie": `${SESSION_COOKIE}=${signedIn.sessionId}; Path=/threads; HttpOnly; SameSite=Lax; Max-Age=${signedIn.maxAgeSeconds}${secure}`,
    });
  }
  const viewer = (await sessionViewer(req, deps.store, clock())) ?? basicViewer(req, deps.tokens);
  if (!viewer) {
    send(
      res,
      401,
      page(
        { title: "Sign in" },
        "<h1>Sign in</h1><p>Sign in with any user name and an API token as the password.</p>",
      ),
      { "www-authenticate": 'Basic realm="deploybot", charset="UTF-8"' },
    );
    return;
  }
  const layout = (title: string, current: Layout["current"] = null): Layout => ({
    title,
    viewer: viewer.name,
    current,
  });
  const now = clock();

  if (path === "/threads" || path === "/threads/overview") {
    if (method !== "GET") {
      res.setHeader("allow", "GET");
      throw new HttpError(405, `use GET on ${path}`);
    }
    if (path === "/threads/overview") {
      const overviews = await loadOverview(deps.store);
      const done = url.searchParams.get("done");
      const flash = (LOCK_ACTIONS as readonly string[]).includes(done ?? "")
        ? LOCK_DONE_NOTES[done as LockAction]
        : null;
      const body = renderOverview(githubUrl, overviews, now, { csrf: viewer.csrf, flash });
      return send(res, 200, page(layout("Overview", "overview"), body));
    }
    const query = parseListQuery(url.searchParams);
    const list = await loadThreadList(deps.store, query);
    return send(res, 200, page(layout("Threads", "threads"), renderThreadList(query, list, now)));
  }

  const lockAction = path.slice("/threads/locks/".length);
  if (path.startsWith("/threads/locks/") && (LOCK_ACTIONS as readonly string[]).includes(lockAction)) {
    if (method !== "POST") {
      res.setHeader("allow", "POST");
      throw new HttpError(405, `use the ${lockAction} form on the overview`);
    }
    const form = await readForm(req);
    if (!formIsGenuine(req, viewer, form.get("csrf"))) throw new HttpError(403, STALE_FORM);
    await queueLockForm({ store: deps.store, clock }, lockAction as LockAction, form, viewer.name);
    return redirect(res, `/threads/overview?done=${lockAction}`);
  }

  const [rawId, rawAction, ...rest] = path.slice("/threads/".length).split("/");
  const id = decodePathSegment(rawId ?? "");
  const action = ACTIONS.find((known) => known === rawAction);
  if (rest.length > 0 || (rawAction !== undefined && action === undefined)) {
    return message(res, 404, "Not found", `No page ${path}.`, viewer);
  }
  const thread = await deps.store.getThread(id);
  const summary = thread ? await deps.store.getThreadSummary(id) : null;
  if (!thread || !summary) return message(res, 404, "Not found", `No thread ${id}.`, viewer);

  if (action === undefined) {
    if (method !== "GET") {
      res.setHeader("allow", "GET");
      throw new HttpError(405, "use GET on a thread page");
    }
    const done = url.searchParams.get("done");
    const flash =
      done && (ACTIONS as readonly string[]).includes(done)
        ? { kind: "ok" as const, text: DONE_NOTES[done as Action] }
        : null;
    return send(
      res,
      200,
      page(
        layout(summary.title),
        renderThreadPage(
          {
            githubUrl,
            ...(deps.slackUrl ? { slackUrl: deps.slackUrl } : {}),
            now,
            csrf: viewer.csrf,
            flash,
            allEvents: url.searchParams.get("all") === "1",
          },
          thread,
          summary,
        ),
      ),
    );
  }

  if (method !== "POST") {
    res.setHeader("allow", "POST");
    throw new HttpError(405, `use the ${action} button on the thread page`);
  }
  const form = await readForm(req);
  if (!formIsGenuine(req, viewer, form.get("csrf"))) {
    throw new HttpError(403, STALE_FORM);
  }
  const state = deriveState(thread.events);
  if (state.terminal) throw new HttpError(409, `thread ${id} is ${state.status}: nothing to ${action}`);
  const reason = (form.get("reason") ?? "").trim();
  const deliveryId = `dashboard:${randomUUID()}`;
  if (action === "approve" || action === "reject") {
    if (!state.pendingApproval) throw new HttpError(409, `thread ${id} is not waiting for an approval`);
    if (action === "reject" && !reason)
      throw new HttpError(400, "say why you reject: the reason goes to the thread");
    const payload: ApiDecision = {
      thread_id: id,
      decision: action,
      reason: reason ? clip(reason, 2_000) : null,
      client: viewer.name,
      channel: "dashboard",
      received_at: now.toISOString(),
    };
    await deps.store.enqueue({ deliveryId, source: "api", kind: API_DECISION_KIND, payload }, now);
  } else {
    if (action === "resume" && !state.paused) throw new HttpError(409, `thread ${id} is not paused`);
    if (action === "pause" && state.paused) throw new HttpError(409, `thread ${id} is already paused`);
    await deps.store.enqueue(
      {
        deliveryId,
        source: "api",
        kind: API_KINDS.control,
        payload: {
          thread_id: id,
          action,
          client: viewer.name,
          reason: reason ? clip(reason, 500) : null,
        } satisfies ApiControl,
      },
      now,
    );
  }
  return redirect(res, `/threads/${encodeURIComponent(id)}?done=${action}`);
}
