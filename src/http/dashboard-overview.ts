import { deployActionOf, type DeployAction } from "../thread/next-step.js";
import type { RepoConfig } from "../config/repo-config.js";
import type { DeploymentRecord, Lock, ManualLock, Store, ThreadSummary } from "../store/store.js";
import { THREAD_STATUSES, UNFINISHED_STATUSES, type ThreadStatus } from "../thread/events.js";
import { configOf, deriveState } from "../thread/state.js";
import { escapeHtml, link, statusBadge, statusLabel, timeTag } from "./dashboard-html.js";
import { renderLocks } from "./dashboard-locks.js";
import { short, truncate } from "../thread/text.js";

/**
 * What runs where, per repository: for each component and environment, the commit deployed there
 * last, since when and by which thread; and what is deploying, queued or waiting for approval.
 * Also the thread list, with its filters and pages.
 */

const ACTIVE: ThreadStatus[] = [...UNFINISHED_STATUSES];

interface Pending {
  kind: "deploying" | "approval" | "queued";
  action: DeployAction;
  threadId: string;
}

export interface RepoOverview {
  repo: string;
  components: string[];
  environments: { name: string; approval: boolean }[];
  current: Map<string, DeploymentRecord>;
  pending: Map<string, Pending[]>;
  locks: Lock[];
  /** Places people locked, with who, why and since when. */
  manualLocks: ManualLock[];
  attention: ThreadSummary[];
  /** The repository's latest threads, and the titles of those the cells link to. */
  recent: ThreadSummary[];
  titles: Map<string, string>;
}

const place = (component: string, environment: string) => `${component}/${environment}`;

/** Gathers the overview from the store: repositories with threads, their config, deployments and locks. */
export async function loadOverview(store: Store): Promise<RepoOverview[]> {
  const [recent, active, locks, manualLocks] = await Promise.all([
    store.listThreads({ limit: 500 }),
    store.listThreads({ status: ACTIVE, limit: 200 }),
    store.listLocks(),
    store.listManualLocks(),
  ]);
  const repos = [...new Set(recent.map((t) => t.repo))].sort();
  const overviews: RepoOverview[] = [];
  for (const repo of repos) {
    let config: RepoConfig | null = null;
    for (const summary of recent.filter((t) => t.repo === repo).slice(0, 10)) {
      const thread = await store.getThread(summary.id);
      config = thread ? safeConfig(thread.events) : null;
      if (config) break;
    }
    const deployments = await store.successfulDeployments(repo, { limit: 500 });
    const current = new Map<string, DeploymentRecord>();
    for (const d of deployments) {
      if (!current.has(place(d.component, d.environment))) current.set(place(d.component, d.environment), d);
    }
    const pending = new Map<string, Pending[]>();
    const add = (p: Pending) => {
      const key = place(p.action.component, p.action.environment);
      pending.set(key, [...(pending.get(key) ?? []), p]);
    };
    const repoActive = active.filter((t) => t.repo === repo);
    for (const summary of repoActive) {
      const thread = await store.getThread(summary.id);
      if (!thread) continue;
      const state = deriveState(thread.events);
      const inFlight = state.inFlight ? deployActionOf(state.inFlight.authorized.data.step) : null;
      if (inFlight) add({ kind: "deploying", action: inFlight, threadId: thread.id });
      const asked = state.pendingApproval ? deployActionOf(state.pendingApproval.data.step) : null;
      if (asked) add({ kind: "approval", action: asked, threadId: thread.id });
      const queued = state.deferred ? deployActionOf(state.deferred.data.step) : null;
      if (queued) add({ kind: "queued", action: queued, threadId: thread.id });
    }
    const components = config
      ? Object.keys(config.components)
      : [...new Set(deployments.map((d) => d.component))].sort();
    const environments = config
      ? config.environments.map((e) => ({ name: e.name, approval: e.approval === "required" }))
      : [...new Set(deployments.map((d) => d.environment))].map((name) => ({ name, approval: false }));
    overviews.push({
      repo,
      components,
      environments,
      current,
      pending,
      locks: locks.filter((l) => l.key.startsWith(`${repo}:`)),
      manualLocks: manualLocks.filter((l) => l.repo === repo),
      attention: repoActive.filter(
        (t) => t.status === "waiting_for_approval" || t.status === "waiting_for_human",
      ),
      recent: recent.filter((t) => t.repo === repo).slice(0, 5),
      titles: new Map(recent.filter((t) => t.repo === repo).map((t) => [t.id, t.title])),
    });
  }
  return overviews;
}

function safeConfig(events: Parameters<typeof configOf>[0]): RepoConfig | null {
  try {
    return configOf(events);
  } catch {
    return null;
  }
}

function threadLink(id: string, text = "thread"): string {
  return `<a href="/threads/${encodeURIComponent(id)}">${escapeHtml(text)}</a>`;
}

/** A thread link named after its pull request or request, without the repository already shown. */
function namedThreadLink(o: RepoOverview, id: string): string {
  const title =
    o.titles
      .get(id)
      ?.replace(`${o.repo}`, "")
      .replace(/^[:\s]+/, "") ?? "thread";
  return threadLink(id, truncate(title, 40, "…"));
}

const PENDING_WORDS: Record<Pending["kind"], string> = {
  deploying: "deploying",
  approval: "waiting for approval:",
  queued: "queued:",
};

function cell(githubUrl: string, o: RepoOverview, component: string, environment: string, now: Date): string {
  const key = place(component, environment);
  const current = o.current.get(key);
  const lines: string[] = [];
  if (current) {
    lines.push(
      `<code>${link(`${githubUrl}/${o.repo}/commit/${current.sha}`, short(current.sha))}</code> since ${timeTag(current.finishedAt ?? current.createdAt, now)} · ${namedThreadLink(o, current.threadId)}`,
    );
  } else {
    lines.push(`<span class="muted">nothing deployed by deploybot</span>`);
  }
  for (const p of o.pending.get(key) ?? []) {
    const cls = p.kind === "approval" ? "warn" : "muted";
    lines.push(
      `<span class="${cls}">${PENDING_WORDS[p.kind]}</span> ${p.action.kind === "rollback" ? "rollback to " : ""}<code>${escapeHtml(short(p.action.sha))}</code> · ${namedThreadLink(o, p.threadId)}`,
    );
  }
  const held = o.manualLocks.find(
    (l) => l.environment === environment && (l.component === null || l.component === component),
  );
  if (held) lines.push(`<span class="warn">locked:</span> ${escapeHtml(truncate(held.reason, 60, "…"))}`);
  const lock = o.locks.find((l) => l.key === `${o.repo}:${component}:${environment}`);
  if (lock && !(o.pending.get(key) ?? []).some((p) => p.kind === "deploying")) {
    lines.push(
      `<span class="muted">locked since ${timeTag(lock.acquiredAt, now)}</span> · ${threadLink(lock.threadId)}`,
    );
  }
  return lines.join("<br>");
}

export function renderOverview(
  githubUrl: string,
  overviews: RepoOverview[],
  now: Date,
  /** The signed-in viewer's form token (null: no forms), and a note on the last action. */
  forms: { csrf: string | null; flash: string | null } = { csrf: null, flash: null },
): string {
  if (overviews.length === 0) {
    return `<h1>Overview</h1><p>No threads yet: merge a pull request into a repository with <code>.github/deploybot.yml</code>.</p>`;
  }
  const sections = overviews.map((o) => {
    const head = o.environments
      .map(
        (e) =>
          `<th scope="col">${escapeHtml(e.name)}${e.approval ? ` <span class="muted">(approval)</span>` : ""}</th>`,
      )
      .join("");
    const rows = o.components
      .map(
        (c) =>
          `<tr><th scope="row">${escapeHtml(c)}</th>${o.environments.map((e) => `<td>${cell(githubUrl, o, c, e.name, now)}</td>`).join("")}</tr>`,
      )
      .join("");
    const attention = o.attention.length
      ? `<h3>Needs a human</h3><ul>${o.attention.map((t) => `<li>${threadLink(t.id, t.title)} ${statusBadge(t.status)} ${timeTag(t.updatedAt, now)}</li>`).join("")}</ul>`
      : "";
    return `<section aria-labelledby="repo-${escapeHtml(o.repo.replace(/[^\w-]/g, "-"))}"><h2 id="repo-${escapeHtml(o.repo.replace(/[^\w-]/g, "-"))}">${link(`${githubUrl}/${o.repo}`, o.repo)}</h2>
<table><caption>What runs where in ${escapeHtml(o.repo)}</caption><thead><tr><th scope="col">Component</th>${head}</tr></thead><tbody>${rows}</tbody></table>${attention}
${renderLocks(o.repo, { components: o.components, environments: o.environments.map((e) => e.name) }, o.manualLocks, now, forms.csrf)}
<h3>Latest threads</h3><ul>${o.recent.map((t) => `<li>${threadLink(t.id, t.title)} ${statusBadge(t.status)} ${timeTag(t.updatedAt, now)}</li>`).join("")}</ul>
<p><a href="/threads?repo=${encodeURIComponent(o.repo)}">All threads of ${escapeHtml(o.repo)}</a></p></section>`;
  });
  const flash = forms.flash ? `<p class="flash" role="status">${escapeHtml(forms.flash)}</p>` : "";
  return `${flash}<h1>Overview</h1>${sections.join("")}`;
}

export const PAGE_SIZE = 25;

export interface ListQuery {
  repo: string | null;
  status: ThreadStatus | null;
  page: number;
}

export function parseListQuery(search: URLSearchParams): ListQuery {
  const status = search.get("status");
  const repo = search.get("repo");
  const page = Number(search.get("page") ?? "1");
  return {
    repo: repo && /^[\w.-]+\/[\w.-]+$/.test(repo) ? repo : null,
    status:
      status && (THREAD_STATUSES as readonly string[]).includes(status) ? (status as ThreadStatus) : null,
    page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1,
  };
}

export async function loadThreadList(
  store: Store,
  query: ListQuery,
): Promise<{ threads: ThreadSummary[]; more: boolean; repos: string[] }> {
  const [found, recent] = await Promise.all([
    store.listThreads({
      ...(query.repo ? { repo: query.repo } : {}),
      ...(query.status ? { status: [query.status] } : {}),
      limit: PAGE_SIZE + 1,
      offset: (query.page - 1) * PAGE_SIZE,
    }),
    store.listThreads({ limit: 500 }),
  ]);
  const repos = [...new Set([...recent.map((t) => t.repo), ...(query.repo ? [query.repo] : [])])].sort();
  return { threads: found.slice(0, PAGE_SIZE), more: found.length > PAGE_SIZE, repos };
}

function listHref(query: ListQuery, page: number): string {
  const params = new URLSearchParams();
  if (query.repo) params.set("repo", query.repo);
  if (query.status) params.set("status", query.status);
  if (page > 1) params.set("page", String(page));
  const search = params.toString();
  return escapeHtml(`/threads${search ? `?${search}` : ""}`);
}

export function renderThreadList(
  query: ListQuery,
  list: { threads: ThreadSummary[]; more: boolean; repos: string[] },
  now: Date,
): string {
  const option = (value: string, text: string, selected: boolean) =>
    `<option value="${escapeHtml(value)}"${selected ? " selected" : ""}>${escapeHtml(text)}</option>`;
  const filters = `<form class="filters" method="get" action="/threads" role="search" aria-label="Filter threads">
<div><label for="f-repo">Repository</label><select id="f-repo" name="repo">${option("", "All repositories", !query.repo)}${list.repos.map((r) => option(r, r, r === query.repo)).join("")}</select></div>
<div><label for="f-status">Status</label><select id="f-status" name="status">${option("", "Any status", !query.status)}${THREAD_STATUSES.map((s) => option(s, statusLabel(s), s === query.status)).join("")}</select></div>
<button type="submit">Filter</button></form>`;
  const rows = list.threads
    .map(
      (t) =>
        `<tr><th scope="row">${threadLink(t.id, t.title)}</th><td>${escapeHtml(t.repo)}</td><td>${statusBadge(t.status)}${t.waitingOn ? `<br><span class="muted">${escapeHtml(t.waitingOn)}</span>` : ""}</td><td>${timeTag(t.createdAt, now)}</td><td>${timeTag(t.updatedAt, now)}</td></tr>`,
    )
    .join("");
  const table = list.threads.length
    ? `<table><caption>Threads, most recently active first (page ${query.page})</caption><thead><tr><th scope="col">Thread</th><th scope="col">Repository</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Updated</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>No threads match.</p>`;
  const pager = `<nav class="pager" aria-label="Pages">${query.page > 1 ? `<a href="${listHref(query, query.page - 1)}" rel="prev">Newer</a>` : ""}${list.more ? `<a href="${listHref(query, query.page + 1)}" rel="next">Older</a>` : ""}</nav>`;
  return `<h1>Threads</h1>${filters}${table}${pager}`;
}
