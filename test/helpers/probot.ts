import { generateKeyPairSync } from "node:crypto";
import { pino, type Logger } from "pino";
import { Probot, ProbotOctokit, type ApplicationFunction } from "probot";
import { startHttpServer, type StartedServer } from "../../src/http/server.js";
import { silentLog, type Log } from "../../src/log.js";

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

/** `Octokit`: the production class (retries and throttling on) where a test is about retries. */
export function createTestProbot(options: { Octokit?: typeof ProbotOctokit } = {}): Probot {
  return new Probot({
    appId: APP_ID,
    privateKey: testPrivateKey(),
    secret: WEBHOOK_SECRET,
    Octokit: options.Octokit ?? TestOctokit,
    logLevel: "fatal",
  });
}

/**
 * A real HTTP server on a free port serving `app` with the test app's credentials, silently
 * unless a test passes the loggers (one pino logger for both, as the process does, to see every
 * line an operator would).
 */
export async function startTestServer(
  app: ApplicationFunction,
  serverLog: Log = silentLog,
  probotLog: Logger = pino({ level: "silent" }),
): Promise<StartedServer> {
  const log = probotLog;
  return startHttpServer({
    probot: new Probot({
      appId: APP_ID,
      privateKey: testPrivateKey(),
      secret: WEBHOOK_SECRET,
      Octokit: TestOctokit,
      log,
    }),
    app,
    host: "127.0.0.1",
    port: 0,
    log: serverLog,
  });
}
