import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { Store } from "../store/store.js";

/**
 * Who is looking at the dashboard. A browser signs in with HTTP Basic auth (any user name, an API
 * token as the password), or once through a one-time sign-in link that starts a session cookie.
 * Either way the identity is the API token's name, and every form carries a CSRF token bound to
 * the sign-in: derived from the API token for Basic auth, random per session for a cookie.
 * Sessions and sign-in links live in the store (hashed), so every replica knows them.
 */

export const SESSION_COOKIE = "deploybot_session";
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SIGN_IN_TTL_MS = 15 * 60 * 1000;

export interface Viewer {
  /** The API token's name: recorded as who acted. */
  name: string;
  csrf: string;
  via: "basic" | "session";
}

const SessionRecord = z.object({ name: z.string(), csrf: z.string(), expires_at: z.string() });
const SignInRecord = z.object({ name: z.string(), expires_at: z.string(), used: z.boolean() });

const digest = (secret: string) => createHash("sha256").update(secret).digest("hex");
const sessionKey = (id: string) => `dashboard-session:${digest(id)}`;
const signInKey = (token: string) => `dashboard-sign-in:${digest(token)}`;

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseRecord<T>(schema: z.ZodType<T>, raw: string | null): T | null {
  if (!raw) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The viewer for a Basic auth header whose password is a known API token; null otherwise. */
export function basicViewer(req: IncomingMessage, tokens: ReadonlyMap<string, string>): Viewer | null {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const given = decoded.slice(decoded.indexOf(":") + 1);
  for (const [token, name] of tokens) {
    if (safeEqual(token, given)) {
      const csrf = createHmac("sha256", token).update("deploybot dashboard forms").digest("hex");
      return { name, csrf, via: "basic" };
    }
  }
  return null;
}

export function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

/** The viewer of a live session cookie; null without one, or once it expired. */
export async function sessionViewer(req: IncomingMessage, store: Store, now: Date): Promise<Viewer | null> {
  const id = cookieOf(req, SESSION_COOKIE);
  if (!id || !/^[A-Za-z0-9_-]{20,100}$/.test(id)) return null;
  const record = parseRecord(SessionRecord, await store.getRef(sessionKey(id)));
  if (!record || Date.parse(record.expires_at) <= now.getTime()) return null;
  return { name: record.name, csrf: record.csrf, via: "session" };
}

/**
 * Creates a one-time sign-in token for the API token named `name`: `/threads/sign-in?token=...`
 * signs a browser in once, within 15 minutes.
 */
export async function createSignInToken(store: Store, name: string, now: Date): Promise<string> {
  const token = randomBytes(24).toString("base64url");
  const record = { name, expires_at: new Date(now.getTime() + SIGN_IN_TTL_MS).toISOString(), used: false };
  await store.setRef(signInKey(token), JSON.stringify(record), now);
  return token;
}

/**
 * Spends a sign-in token and starts a session: the session id (for the cookie), or null when the
 * token is unknown, used or expired.
 */
export async function redeemSignInToken(
  store: Store,
  token: string,
  now: Date,
): Promise<{ sessionId: string; name: string; maxAgeSeconds: number } | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const key = signInKey(token);
  const record = parseRecord(SignInRecord, await store.getRef(key));
  if (!record || record.used || Date.parse(record.expires_at) <= now.getTime()) return null;
  await store.setRef(key, JSON.stringify({ ...record, used: true }), now);
  const sessionId = randomBytes(24).toString("base64url");
  const session = {
    name: record.name,
    csrf: randomBytes(24).toString("base64url"),
    expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
  };
  await store.setRef(sessionKey(sessionId), JSON.stringify(session), now);
  return { sessionId, name: record.name, maxAgeSeconds: SESSION_TTL_MS / 1000 };
}

/**
 * A form post is the viewer's own: its CSRF field matches, and the browser's Origin (when it
 * sends one) is this server.
 */
export function formIsGenuine(req: IncomingMessage, viewer: Viewer, csrfField: string | null): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    // Behind a proxy that rewrites Host, the browser's host arrives as X-Forwarded-Host.
    const forwarded = String(req.headers["x-forwarded-host"] ?? "")
      .split(",")[0]!
      .trim();
    if (host !== req.headers.host && host !== forwarded) return false;
  } else if (origin === "null") {
    return false;
  }
  return csrfField !== null && safeEqual(csrfField, viewer.csrf);
}
