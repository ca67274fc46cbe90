import { installationFinder } from "./github/installations.js";
import { existsSync, readdirSync } from "node:fs";
import { pino } from "pino";
import { createProbot, run } from "probot";
import { createApp, healthRoute } from "./app.js";
import { createOpenAiDecider, type Decider } from "./agent/decide.js";
import { loadPrompts } from "./agent/prompts.js";
import { createRulesDecider } from "./agent/rules-decider.js";
import { EnvError, loadProcessEnv, manifestWebhookUrl, parseSettings, type Settings } from "./config/env.js";
import { DeploybotOctokit, octokitReportingErrors } from "./github/octokit.js";
import { apiRoutes } from "./http/api-routes.js";
import { dashboardRoutes } from "./http/dashboard-routes.js";
import { metricsRoute } from "./http/metrics-route.js";
import { countingFetch, instrumentSlack, instrumentStore } from "./metrics/instrument.js";
import { openInboxAgeReader } from "./metrics/inbox-age.js";
import { createMetrics } from "./metrics/metrics.js";
import { DeliveryThreads } from "./pipeline/entry-thread.js";
import { slackRoutes } from "./http/slack-routes.js";
import { tidyDestination } from "./log.js";
import { startHttpServer, WEBHOOK_PATH } from "./http/server.js";
import { createSlackClient } from "./slack/client.js";
import { openStore } from "./store/open-store.js";
import { startWorker, type RunningWorker } from "./worker.js";
import { wakeOnEnqueue } from "./worker/wake-on-enqueue.js";

/** Process entry: read settings, build collaborators, start the server and the worker. */

function buildDecider(settings: Settings, modelFetch: typeof fetch): Decider {
  if (settings.decider === "rules") return createRulesDecider();
  return createOpenAiDecider({
    apiKey: settings.openai.apiKey!,
    ...(settings.openai.baseUrl ? { baseURL: settings.openai.baseUrl } : {}),
    model: settings.openai.model,
    timeoutMs: 60_000,
    maxRetries: 2,
    prompts: loadPrompts(),
    fetch: modelFetch,
  });
}

/** Probot finds a key in PRIVATE_KEY, PRIVATE_KEY_PATH, or the one *.pem file of the working directory. */
function hasPrivateKey(settings: Settings): boolean {
  if (settings.privateKey) return true;
  if (settings.privateKeyPath) return existsSync(settings.privateKeyPath);
  return readdirSync(process.cwd()).filter((f) => f.endsWith(".pem")).length === 1;
}

async function main(): Promise<void> {
  const env = loadProcessEnv();
  const settings = parseSettings(env);

  if (!settings.appId || !hasPrivateKey(settings)) {
    // Probot's setup flow registers the GitHub App from app.yml and writes its credentials to .env.
    const setup = await run(() => {}, { env });
    const host = ["0.0.0.0", "::"].includes(settings.host) ? "localhost" : settings.host;
    manifestWebhookUrl(`http://${host}:${setup.port}${WEBHOOK_PATH}`);
    return;
  }

  // One `name` per line: Probot names its own children (probot, github, ...) under the root logger,
  // and tidyDestination keeps the innermost name where pino would repeat the key.
  const rootLog = pino({ level: settings.logLevel }, tidyDestination());
  const log = rootLog.child({ name: "deploybot" });
  const metrics = createMetrics();
  if (!settings.webhookSecret) {
    log.warn(
      "WEBHOOK_SECRET is not set: webhooks are checked against Probot's development secret. Set it to the GitHub App's webhook secret.",
    );
  }
  const deliveries = new DeliveryThreads();
  const plainStore = await openStore(settings.databaseUrl);
  const store = instrumentStore(plainStore, metrics, {
    onClaim: (entry) => deliveries.remember(entry, plainStore),
    onObserveError: (error) => log.warn({}, `metrics: could not observe the store: ${String(error)}`),
  });
  metrics.observeStore(store, openInboxAgeReader(settings.databaseUrl));
  const decider = buildDecider(settings, countingFetch("model", metrics));
  const clock = () => new Date();
  const slack = settings.slack.botToken
    ? instrumentSlack(
        createSlackClient({ token: settings.slack.botToken, apiUrl: settings.slack.apiUrl }),
        metrics,
      )
    : null;
  const githubUrl = settings.gheHost
    ? `${settings.gheProtocol ?? "https"}://${settings.gheHost}`
    : "https://github.com";
  const Octokit = octokitReportingErrors(DeploybotOctokit, (status) =>
    metrics.externalErrors.inc({ service: "github", status }),
  );
  const probot = createProbot({ env, overrides: { log: rootLog, Octokit } });
  let worker: RunningWorker | undefined;
  // What the HTTP side queues is handled at once by this process's worker, not at its next poll.
  const inbox = wakeOnEnqueue(store, () => worker?.wake());

  const server = await startHttpServer({
    probot,
    host: settings.host,
    port: settings.port,
    log: rootLog.child({ name: "http" }),
    metrics,
    app: createApp({
      store: inbox,
      clock,
      routes: () => [
        healthRoute(store),
        metricsRoute(store, metrics),
        dashboardRoutes({
          store: inbox,
          tokens: settings.apiTokens,
          clock,
          githubUrl,
          slackUrl: new URL(settings.slack.apiUrl).origin,
        }),
        apiRoutes({ store: inbox, clock, tokens: settings.apiTokens, log, lookUpInstallations: true }),
        slackRoutes({ store: inbox, clock, signingSecret: settings.slack.signingSecret, slack, log }),
      ],
      onReady: (app) => {
        worker = startWorker({
          store,
          decider,
          clock,
          log: deliveries.annotate(log),
          octokitFor: (installationId) => app.auth(installationId),
          appId: Number(settings.appId),
          pollMs: settings.workerPollMs,
          leaseMs: settings.inboxLeaseMs,
          concurrency: settings.workerConcurrency,
          retentionDays: settings.retentionDays,
          prComments: true,
          installationOf: installationFinder({ store, clock, appOctokit: () => app.auth() }),
          slack,
          githubUrl,
        });
      },
    }),
  });
  log.info(
    `deploybot listening on ${server.url}: decider ${decider.name}, database ${settings.databaseUrl.split(":")[0]}, Slack ${slack ? "on" : "off"}`,
  );

  if (settings.webhookProxyUrl) {
    try {
      const { SmeeClient } = await import("smee-client");
      await new SmeeClient({
        source: settings.webhookProxyUrl,
        target: `${server.url}${WEBHOOK_PATH}`,
        logger: log,
      }).start();
    } catch (error) {
      log.warn(
        `WEBHOOK_PROXY_URL is set but the smee.io proxy did not start (npm install --save-dev smee-client): ${String(error)}`,
      );
    }
  }

  const shutdown = async (signal: string) => {
    log.info(`${signal}: stopping (running work gets ${settings.shutdownGraceMs} ms to finish)`);
    await worker?.stop(settings.shutdownGraceMs);
    await server.close();
    await store.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  const message =
    error instanceof EnvError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`deploybot could not start: ${message}\n`);
  process.exit(1);
});
