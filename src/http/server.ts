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
import type { Metrics } from "../metrics/metrics.js";
import { logAccess } from "./access-log.js";
import { HttpError, mediaType, pathOf, readBody, sendJson } from "./body.js";

/**
 * The HTTP server of a configured app: deploybot's routes and Probot's webhook middleware behind
 * one guard. Every webhook body is read with a size limit and checked to be JSON from a known
 * GitHub event before Probot verifies its signature; a bad request gets a clear 4xx, never a 500.
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

async function guardWebhook(req: IncomingMessage): Promise<void> {
  if (req.method !== "POST") throw new HttpError(405, `${WEBHOOK_PATH} accepts POST only`);
  if (mediaType(req) !== "application/json") throw new HttpError(415, "webhooks must be application/json");
  const event = req.headers["x-github-event"];
  if (typeof event !== "string" || !KNOWN_EVENTS.has(event)) {
    throw new HttpError(
      400,
      `unknown or missing X-GitHub-Event ${JSON.stringify(event ?? null).slice(0, 60)}`,
    );
  }
  const raw = await readBody(req);
  const text = raw.toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    throw new HttpError(400, "webhook body is not valid JSON");
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
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    logAccess(req, res, options.log, options.metrics);
    try {
      if (pathOf(req) === WEBHOOK_PATH) await guardWebhook(req);
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
