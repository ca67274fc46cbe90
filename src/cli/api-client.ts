import { randomUUID } from "node:crypto";
import { CliError, type CliIo } from "./io.js";
import { clip } from "../thread/text.js";

/**
 * The REST API as the CLI uses it: `DEPLOYBOT_URL` (e.g. http://localhost:3000) and
 * `DEPLOYBOT_TOKEN` (one of the server's DEPLOYBOT_API_TOKENS). Changes carry an Idempotency-Key,
 * so a retried command never acts twice.
 */

export interface ApiClient {
  get(path: string): Promise<unknown>;
  post(path: string, body: Record<string, unknown>): Promise<unknown>;
}

export function apiClientFrom(env: CliIo["env"]): ApiClient {
  const base = env.DEPLOYBOT_URL?.replace(/\/+$/, "");
  const token = env.DEPLOYBOT_TOKEN;
  if (!base || !token) {
    throw new CliError(
      "set DEPLOYBOT_URL (e.g. http://localhost:3000) and DEPLOYBOT_TOKEN (a token from the server's DEPLOYBOT_API_TOKENS)",
    );
  }
  const call = async (method: string, path: string, body?: Record<string, unknown>) => {
    let response: Response;
    try {
      response = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body ? { "content-type": "application/json", "idempotency-key": randomUUID() } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new CliError(`could not reach deploybot at ${base}: ${String(error)} (check DEPLOYBOT_URL)`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error =
        typeof parsed === "object" && parsed !== null && "error" in parsed
          ? String(parsed.error)
          : clip(text, 200);
      const hint = response.status === 401 ? " (check DEPLOYBOT_TOKEN)" : "";
      throw new CliError(`deploybot answered ${response.status}: ${error}${hint}`);
    }
    return parsed;
  };
  return { get: (path) => call("GET", path), post: (path, body) => call("POST", path, body) };
}
