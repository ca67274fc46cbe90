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
