import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteHandler } from "../app.js";
import type { Store, ThreadSummary } from "../store/store.js";
import { renderMarkdown } from "../thread/render.js";
import { decodePathSegment, HttpError, pathOf } from "./body.js";

/**
 * The dashboard: `/threads` lists deploy threads, `/threads/{id}` shows one, both server-rendered
 * from the store with every value escaped. A browser signs in with HTTP Basic auth, any user name
 * and an API token (DEPLOYBOT_API_TOKENS) as the password.
 */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

function send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}.status{font-weight:600}</style>
</head><body>${body}</body></html>`;
}

function signedIn(req: IncomingMessage, tokens: ReadonlyMap<string, string>): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const given = Buffer.from(decoded.slice(decoded.indexOf(":") + 1));
  return [...tokens.keys()].some((token) => {
    const expected = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

function row(t: ThreadSummary): string {
  return `<tr><td><a href="/threads/${encodeURIComponent(t.id)}">${escapeHtml(t.id)}</a></td><td>${escapeHtml(t.repo)}</td><td>${escapeHtml(t.title)}</td><td class="status">${escapeHtml(t.status)}</td><td>${escapeHtml(t.waitingOn ?? "")}</td><td>${escapeHtml(t.updatedAt)}</td></tr>`;
}

export function dashboardRoutes(deps: { store: Store; tokens: ReadonlyMap<string, string> }): RouteHandler {
  return async (req, res) => {
    const path = pathOf(req);
    if (path !== "/threads" && !path.startsWith("/threads/")) return false;
    if (req.method !== "GET") {
      send(res, 405, page("Method not allowed", "<p>Use GET.</p>"), { allow: "GET" });
      return true;
    }
    if (deps.tokens.size === 0) {
      send(res, 503, page("Dashboard off", "<p>The dashboard is off: set DEPLOYBOT_API_TOKENS.</p>"));
      return true;
    }
    if (!signedIn(req, deps.tokens)) {
      send(res, 401, page("Sign in", "<p>Sign in with an API token as the password.</p>"), {
        "www-authenticate": 'Basic realm="deploybot", charset="UTF-8"',
      });
      return true;
    }
    if (path === "/threads") {
      const threads = await deps.store.listThreads({ limit: 100 });
      const table = threads.length
        ? `<table><tr><th>Thread</th><th>Repository</th><th>Title</th><th>Status</th><th>Waiting on</th><th>Updated</th></tr>${threads.map(row).join("")}</table>`
        : "<p>No threads yet.</p>";
      send(res, 200, page("deploybot threads", `<h1>Threads</h1>${table}`));
      return true;
    }
    let id: string;
    try {
      id = decodePathSegment(path.slice("/threads/".length));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      send(res, 400, page("Bad request", `<p>${escapeHtml(error.message)}</p>`));
      return true;
    }
    const [thread, summary] = await Promise.all([deps.store.getThread(id), deps.store.getThreadSummary(id)]);
    if (!thread || !summary) {
      send(
        res,
        404,
        page("Not found", `<p>No thread ${escapeHtml(id)}.</p><p><a href="/threads">All threads</a></p>`),
      );
      return true;
    }
    send(
      res,
      200,
      page(
        summary.title,
        `<p><a href="/threads">All threads</a></p><h1>${escapeHtml(summary.title)}</h1><p class="status">${escapeHtml(summary.status)}${summary.waitingOn ? `: waiting for ${escapeHtml(summary.waitingOn)}` : ""}</p><pre>${escapeHtml(renderMarkdown(thread))}</pre>`,
      ),
    );
    return true;
  };
}
