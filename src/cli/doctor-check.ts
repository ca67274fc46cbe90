import { clip } from "../thread/text.js";

/** What one doctor check reports, and the bounded HTTP call the checks share. */

export type CheckState = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  name: string;
  state: CheckState;
  detail: string;
  /** What to do about it, for warn and fail. */
  fix?: string;
}

const TIMEOUT_MS = 10_000;

export async function fetchJson(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await response.text();
  try {
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  } catch {
    return { status: response.status, body: clip(text, 200) };
  }
}

export function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** A check that failed because its service did not answer. */
export function unreachable(name: string, where: string, error: unknown, fix: string): CheckResult {
  return { name, state: "fail", detail: `could not reach ${where}: ${clip(String(error), 160)}`, fix };
}
