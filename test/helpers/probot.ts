import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";

/** A Probot with real app authentication (a fresh RSA key) and no retries or throttling. */

export const APP_ID = 123456;
export const WEBHOOK_SECRET = "test-webhook-secret-0123456789";

let cachedKey: string | undefined;
export function testPrivateKey(): string {
  cachedKey ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  return cachedKey;
}

export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export function createTestProbot(): Probot {
  return new Probot({
    appId: APP_ID,
    privateKey: testPrivateKey(),
    secret: WEBHOOK_SECRET,
    Octokit: TestOctokit,
    logLevel: "fatal",
  });
}
