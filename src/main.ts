import { run } from "probot";
import { createApp, healthRoute } from "./app.js";
import { createOpenAiDecider, type Decider } from "./agent/decide.js";
import { loadPrompts } from "./agent/prompts.js";
import { createRulesDecider } from "./agent/rules-decider.js";
import { DeploybotOctokit } from "./github/octokit.js";
import { EnvError, loadProcessEnv, parseSettings, type Settings } from "./config/env.js";
import { openStore } from "./store/open-store.js";
import { slackRoutes } from "./http/slack-routes.js";
import { createSlackClient } from "./slack/client.js";
import { startWorker, type RunningWorker } from "./worker.js";

/** Process entry: read settings, build collaborators, start the server and the worker. */

function buildDecider(settings: Settings): Decider {
  if (settings.decider === "rules") return createRulesDecider();
  return createOpenAiDecider({
    apiKey: settings.openai.apiKey!,
    ...(settings.openai.baseUrl ? { baseURL: settings.openai.baseUrl } : {}),
    model: settings.openai.model,
    timeoutMs: 60_000,
    maxRetries: 2,
    prompts: loadPrompts(),
  });
}

async function main(): Promise<void> {
  const settings = parseSettings(loadProcessEnv());
  const store = await openStore(settings.databaseUrl);
  const decider = buildDecider(settings);
  const clock = () => new Date();
  const slack = settings.slack.botToken
    ? createSlackClient({ token: settings.slack.botToken, apiUrl: settings.slack.apiUrl })
    : null;
  const githubUrl = settings.gheHost
    ? `${settings.gheProtocol ?? "https"}://${settings.gheHost}`
    : "https://github.com";
  let worker: RunningWorker | undefined;

  const server = await run(
    createApp({
      store,
      clock,
      routes: (app) => [
        healthRoute(store),
        slackRoutes({ store, clock, signingSecret: settings.slack.signingSecret, slack, log: app.log }),
      ],
      onReady: (app) => {
        worker = startWorker({
          store,
          decider,
          clock,
          log: app.log,
          octokitFor: (installationId) => app.auth(installationId),
          appId: settings.appId ? Number(settings.appId) : null,
          slack,
          githubUrl,
          pollMs: settings.workerPollMs,
        });
        app.log.info(
          `deploybot ready: decider ${decider.name}, database ${settings.databaseUrl.split(":")[0]}, worker polling every ${settings.workerPollMs} ms`,
        );
      },
    }),
    { Octokit: DeploybotOctokit },
  );

  const shutdown = async (signal: string) => {
    process.stderr.write(`${signal}: stopping deploybot\n`);
    await worker?.stop();
    await server.stop();
    await store.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
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
