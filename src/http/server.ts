import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, type ApplicationFunction, type Probot } from "probot";
import { HANDLED_EVENTS } from "../app.js";
import type { Log } from "../log.js";
import { WebhookEnvelope } from "../github/webhooks.js";
import type { Metrics } from "../metrics/metrics.js";
import { logAccess } from "./access-log.js";
import { HttpError, jsonDepthExceeds, mediaType, pathOf, readBody, sendJson } from "./body.js";

/**
 * The HTTP server of a configured app: deploybot's routes and Probot's webhook middleware behind
 * one guard. Every webhook body is read with a size limit, its signature verified, and checked to
 * be JSON from a known GitHub event before Probot sees it; a bad request gets a clear 4xx, never a
 * 500.
 */

export const WEBHOOK_PATH = "/api/github/webhooks";

/** The GitHub events this app subscribes to, and the few GitHub sends to every app. */
const KNOWN_EVENTS = new Set([
  ...HANDLED_EVENTS.map((event) => event.split(".")[0]!),
  "ping",
  "installation",
  "installation_repositories",
  "installation_target",
  "github_app_authorization",
  "meta",
]);

/** GitHub's payloads nest a few levels; anything this deep is not from GitHub. */
const MAX_WEBHOOK_DEPTH = 64;

/** Checks an `X-Hub-Signature-256` header against the raw body; false for a missing or wrong one. */
export type VerifySignature = (payload: string, signature: string) => Promise<boolean>;

/**
 * Refuses what Probot's middleware would answer with a 500 or log as an error with its stack: a
 * wrong or missing signature is one warning line and a 401; a body nested deeper than any GitHub
 * payload, or whose installation id is not a number, is a 400. What passes is stored as received.
 */
async function guardWebhook(req: IncomingMessage, verify: VerifySignature, log: Log): Promise<void> {
  if (req.method !== "POST") throw new HttpError(405, `${WEBHOOK_PATH} accepts POST only`);
  if (mediaType(req) !== "application/json") throw new HttpError(415, "webhooks must be application/json");
  const event = req.headers["x-github-event"];
  if (typeof event !== "string" || !KNOWN_EVENTS.has(event)) {
    throw new HttpError(
      400,
      `unknown or missing X-GitHub-Event ${JSON.stringify(event ?? null).slice(0, 60)}`,
    );
  }
  const delivery = req.headers["x-github-delivery"];
  if (typeof delivery !== "string" || delivery.length === 0 || delivery.length > 200) {
    throw new HttpError(400, "missing or overlong X-GitHub-Delivery header (at most 200 characters)");
  }
  const raw = await readBody(req);
  const text = raw.toString("utf8");
  const signature = req.headers["x-hub-signature-256"];
  const signed = typeof signature === "string" && (await verify(text, signature).catch(() => false));
  if (!signed) {
    // One line, no stack: anyone can send these, so each must cost the log as little as possible.
    log.warn(
      { delivery: delivery.slice(0, 100), event },
      `refused a webhook with ${typeof signature === "string" ? "a wrong" : "no"} X-Hub-Signature-256: if GitHub sent it, set WEBHOOK_SECRET to the GitHub App's webhook secret`,
    );
    throw new HttpError(401, "X-Hub-Signature-256 is missing or does not match the payload");
  }
  if (jsonDepthExceeds(text, MAX_WEBHOOK_DEPTH)) {
    throw new HttpError(400, `webhook body is nested deeper than ${MAX_WEBHOOK_DEPTH} levels`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new HttpError(400, "webhook body is not valid JSON");
  }
  const envelope = WebhookEnvelope.safeParse(payload);
  if (!envelope.success) {
    const problem = envelope.error.issues[0];
    throw new HttpError(
      400,
      `webhook payload refused: ${problem?.path.join(".") || "body"}: ${problem?.message ?? "invalid"}`,
    );
  }
  // The webhook middleware takes a body that was already read as a string.
  Object.assign(req, { body: text });
}

export interface StartedServer {
  server: HttpServer;
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(options: {
  probot: Probot;
  app: ApplicationFunction;
  host: string;
  port: number;
  log: Log;
  metrics?: Metrics;
}): Promise<StartedServer> {
  const middleware = await createNodeMiddleware(options.app, {
    probot: options.probot,
    webhooksPath: WEBHOOK_PATH,
  });
  // Probot's own check, with Probot's secret, run before its middleware: a refusal inside the
  // middleware is logged twice, as errors with stack traces.
  const webhooks = options.probot.webhooks;
  const verify: VerifySignature = (payload, signature) => webhooks.verify(payload, signature);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    logAccess(req, res, options.log, options.metrics);
    try {
      if (pathOf(req) === WEBHOOK_PATH) await guardWebhook(req, verify, options.log);
      await middleware(req, res, () =>
        sendJson(res, 404, { error: `no route for ${req.method} ${pathOf(req)}` }),
      );
    } catch (error) {
      if (res.headersSent) return;
      if (error instanceof HttpError) {
        // Close the connection: the rest of a refused body is not worth reading.
        res.setHeader("connection", "close");
        sendJson(res, error.status, { error: error.message });
        return;
      }
      options.log.error({ path: pathOf(req) }, `request failed: ${String(error)}`);
      sendJson(res, 500, { error: "internal error" });
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
