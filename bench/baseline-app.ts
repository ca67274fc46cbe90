import { createServer } from "node:http";
import { createNodeMiddleware, createProbot } from "probot";

/**
 * The ingest baseline: a bare Probot 14 app with a no-op `pull_request.closed` handler, served the
 * way Probot's README shows (`createNodeMiddleware` in a node:http server). Run as a child process
 * by bench/ingest.ts, with APP_ID, PRIVATE_KEY, WEBHOOK_SECRET and PORT in its environment.
 */

const middleware = await createNodeMiddleware(
  (app) => {
    app.on("pull_request.closed", async () => {});
  },
  { probot: createProbot(), webhooksPath: "/api/github/webhooks" },
);
const server = createServer((req, res) => {
  void middleware(req, res, () => {
    res.writeHead(404).end();
  });
});
server.listen(Number(process.argv[2]), "127.0.0.1", () => process.stdout.write("listening\n"));
