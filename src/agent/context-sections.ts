import type { RepoConfig } from "../config/repo-config.js";
import { eventsOf, lastOf, type Thread, type ThreadEvent } from "../thread/events.js";
import { changedComponents } from "../thread/state.js";
import { short } from "../thread/text.js";
import { rollbackTargetAt, runningAt } from "../thread/versions.js";
import { attribute, BOUND, commitNamer, name, quoteUntrusted } from "./context-quote.js";

/** The sections of the model's context that describe where the thread stands, before its events. */

export function renderRepository(thread: Thread, config: RepoConfig): string {
  const environments = config.environments.map((e) => {
    const notes: string[] = [];
    if (e.approval === "required") notes.push("approval");
    const rollback = e.rollback_approval ?? e.approval;
    if (rollback !== e.approval) notes.push(`rollback approval ${rollback.replace("_", " ")}`);
    if (e.ci !== "not_failing") notes.push(`ci ${e.ci.replace("_", " ")}`);
    return notes.length ? `${e.name} (${notes.join(", ")})` : e.name;
  });
  return (
    `<repository name="${attribute(thread.repo)}" branch="${attribute(config.branch)}" ` +
    `components="${Object.keys(config.components).join(", ")}" ` +
    `environments="${attribute(environments.join(" then "))}"/>`
  );
}

export function renderCommits(events: readonly ThreadEvent[]): string[] {
  const lines: string[] = [];
  const merged = lastOf(events, "pr_merged");
  if (merged) {
    lines.push(`merge=${merged.data.merge_sha} (PR #${merged.data.number} by ${name(merged.data.author)})`);
  }
  const head = lastOf(events, "branch_head");
  if (head) lines.push(`tip=${head.data.sha} (tip of ${name(head.data.branch)})`);
  return lines.length ? ["<commits>", ...lines, "</commits>"] : [];
}

/** Components this thread is about: the merge's changes, or those its steps touched. */
function threadComponents(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  if (lastOf(events, "pr_merged")) {
    const changed = changedComponents(events);
    return Object.keys(config.components).filter((c) => changed.includes(c));
  }
  const touched = new Set<string>();
  for (const e of eventsOf(events, "deploy_authorized")) touched.add(e.data.component);
  return Object.keys(config.components).filter((c) => touched.has(c));
}

/** Each component of the thread in each environment: succeeded, failed, running, or not yet. */
export function renderProgress(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  const components = threadComponents(events, config);
  if (components.length === 0) return [];
  const named = commitNamer(events);
  const rows = components.map((component) => {
    const cells = config.environments.map(({ name: environment }) => {
      const last = events
        .filter(
          (e) =>
            (e.type === "deploy_authorized" || e.type === "deploy_finished") &&
            e.data.component === component &&
            e.data.environment === environment,
        )
        .at(-1);
      if (!last) return `${environment} not yet`;
      if (last.type === "deploy_authorized") {
        return `${environment} running ${last.data.kind} to ${named(last.data.sha)}`;
      }
      if (last.type !== "deploy_finished") return `${environment} not yet`;
      const kind =
        lastOf(
          events.filter((e) => e.seq < last.seq),
          "deploy_authorized",
        )?.data.kind === "rollback"
          ? "rollback"
          : "deploy";
      const verb = last.data.outcome === "success" ? "succeeded" : "failed";
      return `${environment} ${kind} ${verb} at ${named(last.data.sha)}`;
    });
    return `${component}: ${cells.join("; ")}`;
  });
  return ["<progress>", ...rows, "</progress>"];
}

const SOURCE: Record<string, string> = {
  this_thread: "this thread",
  deploybot: "deploybot history",
  github: "GitHub deployment",
};

/** What runs at each place now, where that fact comes from, and where a rollback there would go. */
export function renderDeployed(events: readonly ThreadEvent[], config: RepoConfig): string[] {
  const named = commitNamer(events);
  const fetched = lastOf(events, "deployed_versions")?.data.entries ?? [];
  const comparisons = eventsOf(events, "commits_compared");
  const lines: string[] = [];
  for (const component of Object.keys(config.components)) {
    for (const { name: environment } of config.environments) {
      const running = runningAt(events, component, environment);
      const entry = fetched.find((e) => e.component === component && e.environment === environment);
      const failedSince = !running && (entry?.sha || eventsOf(events, "deploy_finished").length > 0);
      let text = running
        ? `${named(running.sha)} (${SOURCE[running.source]}${entry?.at && running.source !== "this_thread" ? ` ${entry.at.slice(0, 10)}` : ""})`
        : failedSince && entry?.sha
          ? "unknown since a failed deploy"
          : "none";
      const compared = running ? comparisons.filter((c) => c.data.base === running.sha).at(-1) : undefined;
      if (compared && compared.data.status === "behind") {
        text += `, newer than ${named(compared.data.head)} and contains it`;
      }
      const target = rollbackTargetAt(events, component, environment);
      if (target) text += `; rollback target previous=${short(target)}`;
      lines.push(`${component} ${environment}: ${text}`);
    }
  }
  return ["<deployed>", ...lines, "</deployed>"];
}

export function renderCi(events: readonly ThreadEvent[]): string[] {
  const named = commitNamer(events);
  const latest = new Map<string, ThreadEvent & { type: "ci_state" }>();
  for (const e of eventsOf(events, "ci_state")) latest.set(e.data.sha, e);
  return [...latest.values()].map(
    (e) =>
      `<ci commit="${named(e.data.sha)}" state="${e.data.state}">${
        e.data.summary ? quoteUntrusted("ci_summary", e.data.summary, BOUND.ciSummary) : ""
      }</ci>`,
  );
}
