import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, type ApplicationFunction, type Probot } from "probot";
import { HANDLED_EVENTS, type DeploybotApp } from "../app.js";
import type { Log } from "../log.js";
import { WebhookEnvelope } from "../github/webhooks.js";
import type { Metrics } from "../metrics/metrics.js";
import { logAccess } from "./access-log.js";
import { HttpError, jsonDepthExceeds, mediaType, pathOf, readBody, sendJson, sendText } from "./body.js";
import { clip } from "../thread/text.js";

/**
 * The HTTP server of a configured app: deploybot's routes, and GitHub webhooks behind one guard.
 * Every webhook body is read with a size limit, its signature verified once on the raw bytes, and
 * parsed once; the parsed event goes straight to Probot's event handlers (the app's `app.on`), so
 * neither the signature nor the JSON is checked a second time. A bad request gets a clear 4xx,
 * never a 500.
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

/** A verified webhook, parsed: what Probot's event handlers receive. */
export interface VerifiedWebhook {
  id: string;
  name: string;
  payload: object;
}

/**
 * Refuses what Probot's middleware would answer with a 500 or log as an error with its stack: a
 * wrong or missing signature is one warning line and a 401; a body nested deeper than any GitHub
 * payload, or whose installation id is not a number, is a 400. What passes is returned parsed.
 */
async function guardWebhook(
  req: IncomingMessage,
  verify: VerifySignature,
  log: Log,
): Promise<VerifiedWebhook> {
  if (req.method !== "POST") throw new HttpError(405, `${WEBHOOK_PATH} accepts POST only`);
  if (mediaType(req) !== "application/json") throw new HttpError(415, "webhooks must be application/json");
  const event = req.headers["x-github-event"];
  if (typeof event !== "string" || !KNOWN_EVENTS.has(event)) {
    throw new HttpError(400, `unknown or missing X-GitHub-Event ${clip(JSON.stringify(event ?? null), 60)}`);
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
      { delivery: clip(delivery, 100), event },
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
  const problem = envelopeProblem(payload);
  if (problem) throw new HttpError(400, `webhook payload refused: ${problem}`);
  return { id: delivery, name: event, payload: payload as object };
}

/**
 * What is wrong with a parsed body as a webhook envelope, or null. Only the envelope is given to
 * the schema: walking a whole 25 KB payload with zod on every delivery would cost more than
 * storing it.
 */
function envelopeProblem(payload: unknown): string | null {
  const envelope =
    typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? WebhookEnvelope.safeParse({ installation: (payload as { installation?: unknown }).installation })
      : WebhookEnvelope.safeParse(payload);
  if (envelope.success) return null;
  const problem = envelope.error.issues[0];
  return `${problem?.path.join(".") || "body"}: ${problem?.message ?? "invalid"}`;
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
  // Probot's own check, with Probot's secret; Probot's middleware never sees a webhook, so the
  // signature is computed and the body parsed once (the middleware would do both again).
  const webhooks = options.probot.webhooks;
  const verify: VerifySignature = (payload, signature) => webhooks.verify(payload, signature);
  // deploybot's app takes a verified event straight to its inbox; any other app goes through Probot.
  const queueWebhook = "queueWebhook" in options.app ? (options.app as DeploybotApp).queueWebhook : null;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    logAccess(req, res, options.log, options.metrics);
    try {
      if (pathOf(req) === WEBHOOK_PATH) {
        const event = await guardWebhook(req, verify, options.log);
        await (queueWebhook
          ? queueWebhook(event, options.log)
          : webhooks.receive(event as Parameters<typeof webhooks.receive>[0]));
        sendText(res, 200, "ok\n");
        return;
      }
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
