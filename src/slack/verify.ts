import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Slack request signing, v0: HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed with the signing
 * secret, compared in constant time, within five minutes of now. Checked before anything is parsed.
 */

export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export function verifySlackRequest(
  signingSecret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string | Buffer,
  nowSeconds: number,
): SlackVerification {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature)
    return { ok: false, reason: "missing X-Slack-Request-Timestamp or X-Slack-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed X-Slack-Request-Timestamp" };
  const age = nowSeconds - Number(timestamp);
  if (Math.abs(age) > SLACK_MAX_AGE_SECONDS) {
    return {
      ok: false,
      reason: "X-Slack-Request-Timestamp is outside the 5-minute window (replayed or clock skew)",
    };
  }
  if (!signature.startsWith("v0=")) return { ok: false, reason: "unsupported signature version" };
  const expected = Buffer.from(
    `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest("hex")}`,
  );
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: "signature does not match: check SLACK_SIGNING_SECRET" };
  }
  return { ok: true };
}

/** Signs a body as Slack would; used by tests and by tools that replay requests. */
export function signSlackRequest(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}
