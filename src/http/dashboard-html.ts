import type { ThreadStatus } from "../thread/events.js";

/**
 * The dashboard's HTML building blocks: escaping, the page layout, times in the viewer's terms,
 * links. Every string from outside (a PR title, a reason, a Slack id) goes through `escapeHtml`;
 * every URL through `safeHref`.
 */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** An http(s) URL fit for an href, escaped; null for anything else (javascript:, data:, garbage). */
export function safeHref(url: string | null | undefined): string | null {
  if (!url || !/^https?:\/\/[^\s"'<>`]+$/.test(url)) return null;
  return escapeHtml(url);
}

/** A link when the URL is safe, else the text alone. */
export function link(url: string | null | undefined, text: string): string {
  const href = safeHref(url);
  return href ? `<a href="${href}">${escapeHtml(text)}</a>` : escapeHtml(text);
}

/** "just now", "3 min ago", "2 h ago", "4 days ago" (or "in 5 min" for the future). */
export function relativeTime(at: string, now: Date): string {
  const seconds = Math.round((now.getTime() - Date.parse(at)) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let amount: string;
  if (s < 45) return future ? "in a moment" : "just now";
  if (s < 90 * 60) amount = `${Math.max(1, Math.round(s / 60))} min`;
  else if (s < 36 * 3600) amount = `${Math.round(s / 3600)} h`;
  else amount = `${Math.round(s / 86400)} days`;
  return future ? `in ${amount}` : `${amount} ago`;
}

/** A `<time>` showing the relative time, with the exact UTC time on hover. */
export function timeTag(at: string | null | undefined, now: Date): string {
  if (!at || Number.isNaN(Date.parse(at))) return "";
  const exact = new Date(at).toISOString();
  const readable = `${exact.slice(0, 10)} ${exact.slice(11, 19)} UTC`;
  return `<time datetime="${escapeHtml(exact)}" title="${escapeHtml(readable)}">${escapeHtml(relativeTime(at, now))}</time>`;
}

const STATUS_LABELS: Record<ThreadStatus, string> = {
  running: "running",
  waiting_for_deploy: "deploying",
  waiting_for_approval: "waiting for approval",
  waiting_for_human: "waiting for an answer",
  waiting_for_lock: "queued",
  paused: "paused",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
};

export function statusLabel(status: ThreadStatus): string {
  return STATUS_LABELS[status];
}

/** A status badge; `data-status` keeps the machine name for scripts and tests. */
export function statusBadge(status: ThreadStatus): string {
  return `<span class="badge s-${status}" data-status="${status}">${escapeHtml(statusLabel(status))}</span>`;
}

const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header.top{background:#1b1f24;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header.top a{color:#fff}
header.top .brand{font-weight:700;text-decoration:none;font-size:1.1rem}
header.top nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}
header.top .who{margin-left:auto;font-size:.9rem}
main{padding:1rem 1.5rem 3rem;max-width:1200px}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
a{color:#0550ae}
table{border-collapse:collapse;background:#fff;width:100%;margin:.5rem 0}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.45rem .6rem;border:1px solid #d0d7de;text-align:left;vertical-align:top}
th{background:#eaeef2}
td.when{white-space:nowrap}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.s-done{color:#116329}.s-failed{color:#a40e26}.s-cancelled{color:#57606a}
.s-waiting_for_approval,.s-waiting_for_human{color:#7d4e00}
.s-running,.s-waiting_for_deploy,.s-waiting_for_lock{color:#0550ae}.s-paused{color:#6e40c9}
.muted{color:#57606a}
.ok{color:#116329;font-weight:600}.bad{color:#a40e26;font-weight:600}.warn{color:#7d4e00;font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start;background:#fff;border:1px solid #d0d7de;padding:1rem}
.actions form{display:flex;flex-direction:column;gap:.4rem}
label{font-weight:600}
input[type=text],textarea,select{font:inherit;padding:.3rem .4rem;border:1px solid #57606a;border-radius:4px;background:#fff;color:#1b1f24}
button{font:inherit;font-weight:600;padding:.35rem .9rem;border-radius:6px;border:1px solid #1b1f24;background:#fff;color:#1b1f24;cursor:pointer}
button.primary{background:#116329;border-color:#116329;color:#fff}
button.danger{background:#a40e26;border-color:#a40e26;color:#fff}
.filters{display:flex;gap:1rem;align-items:flex-end;flex-wrap:wrap;margin:.5rem 0}
.filters div{display:flex;flex-direction:column;gap:.2rem}
.flash{background:#dafbe1;border:1px solid #116329;padding:.5rem 1rem}
.error{background:#ffebe9;border:1px solid #a40e26;padding:.5rem 1rem}
.pager{display:flex;gap:1rem;margin:.5rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;border:1px solid #d0d7de;padding:.8rem 1rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
`;

export interface Layout {
  title: string;
  viewer?: string | null;
  current?: "overview" | "threads" | null;
}

/** A whole page: header with navigation, the body in `<main>`. */
export function page(layout: Layout, body: string): string {
  const nav = (href: string, key: Layout["current"], text: string) =>
    `<li><a href="${href}"${layout.current === key ? ' aria-current="page"' : ""}>${text}</a></li>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(layout.title)} · deploybot</title><style>${STYLE}</style></head><body>
<header class="top"><a class="brand" href="/threads/overview">deploybot</a><nav aria-label="Main"><ul>${nav("/threads/overview", "overview", "Overview")}${nav("/threads", "threads", "Threads")}</ul></nav>${layout.viewer ? `<span class="who">Signed in as <strong>${escapeHtml(layout.viewer)}</strong></span>` : ""}</header>
<main>${body}</main></body></html>`;
}
