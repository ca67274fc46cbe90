import { ProbotOctokit } from "probot";

/**
 * Probot's Octokit (retries, throttling, GHE_HOST) with a per-request timeout: octokit has none by
 * default, and one GitHub call that never answers would otherwise hold the worker forever.
 */
export const GITHUB_REQUEST_TIMEOUT_MS = 30_000;

export function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
}

export function octokitWithTimeout(timeoutMs: number) {
  return ProbotOctokit.defaults((options: Record<string, unknown>) => ({
    ...options,
    request: { ...(options.request as object | undefined), fetch: fetchWithTimeout(timeoutMs) },
  }));
}

export const DeploybotOctokit = octokitWithTimeout(GITHUB_REQUEST_TIMEOUT_MS);

/**
 * The same Octokit, telling `onError` the status of every GitHub call that finally failed (after
 * the retry plugin gave up): its HTTP status, or `network` when no answer came.
 */
export function octokitReportingErrors(Base: typeof ProbotOctokit, onError: (status: string) => void) {
  return Base.plugin((octokit) => {
    octokit.hook.error("request", (error) => {
      const status = (error as { status?: unknown }).status;
      onError(typeof status === "number" && status > 0 ? String(status) : "network");
      throw error;
    });
  }) as typeof ProbotOctokit;
}
