import type { Octokit } from "../github/repository.js";
import { clip, truncate, type RepoRef } from "../thread/text.js";

/**
 * A failed deploy, compacted for the model and for humans: the failing job and step, and the few
 * log lines that say what went wrong. Never a whole log, never a stack trace.
 */

const SIGNAL =
  /\b(error|errors|failed|failure|fatal|exception|denied|refused|not found|timed? ?out|exit code|panic|cannot|unable)\b/i;
const NOISE = [
  /^\s+at\s/, // JavaScript stack frames
  /^\s*File ".*", line \d+/, // Python stack frames
  /^\s*Traceback \(most recent call last\)/,
  /^\s*\.\.\. \d+ more$/,
  /^##\[(group|endgroup)\]/,
];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\s?/;
const MAX_LINES = 5;
const MAX_LINE = 200;

/** The most relevant lines of a job log: the last few that signal a failure, without stack frames. */
export function relevantLogLines(log: string): string[] {
  const lines = log
    .split(/\r?\n/)
    .map((line) =>
      line
        .replace(TIMESTAMP, "")
        .replace(/^##\[error\]/, "error: ")
        .trim(),
    )
    .filter((line) => line.length > 0 && !NOISE.some((noise) => noise.test(line)));
  const signals = lines.filter((line) => SIGNAL.test(line));
  const chosen = (signals.length > 0 ? signals : lines).slice(-MAX_LINES);
  return [...new Set(chosen)].map((line) => truncate(line, MAX_LINE, "…"));
}

export function runIdFromUrl(url: string | null | undefined): number | null {
  const match = url?.match(/\/actions\/runs\/(\d+)/);
  return match ? Number(match[1]) : null;
}

/** Looks up the run's failed job and step and its log; null when the run shows nothing useful. */
export async function compactFailure(octokit: Octokit, ref: RepoRef, runId: number): Promise<string | null> {
  const { data } = await octokit.rest.actions.listJobsForWorkflowRun({
    ...ref,
    run_id: runId,
    filter: "latest",
    per_page: 50,
  });
  const job =
    data.jobs.find((j) => j.conclusion === "failure") ??
    data.jobs.find((j) => j.conclusion && j.conclusion !== "success");
  if (!job) return null;
  const step = job.steps?.find((s) => s.conclusion === "failure");
  let lines: string[] = [];
  try {
    const log = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...ref, job_id: job.id });
    lines = relevantLogLines(typeof log.data === "string" ? log.data : String(log.data));
  } catch {
    // Logs expire or may be unreadable; the job and step names still say where it failed.
    lines = [];
  }
  const where = `job "${job.name}"${step ? `, step "${step.name}"` : ""} ${job.conclusion ?? "failed"}`;
  return clip([where, ...lines].join("\n"), 1_000);
}
