import { processEnv, setProcessEnv } from "../config/env.js";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSignInToken } from "../http/dashboard-auth.js";
import { openStore } from "../store/open-store.js";
import type { Store, ThreadSummary } from "../store/store.js";
import { GitHubSimulator } from "./github-simulator.js";
import {
  DEMO_APP_ID,
  DEMO_APPROVER,
  DEMO_CONFIG_YAML,
  DEMO_INSTALLATION_ID,
  DEMO_OWNER,
  DEMO_REPO,
  FAILING_PULL,
  FIRST_PULL,
} from "./sample.js";
import { SlackSimulator } from "./slack-simulator.js";

/**
 * `npm run demo`: deploybot itself (src/main.ts, unchanged) against a simulated GitHub Enterprise
 * Server and a simulated Slack, both on loopback, with a generated GitHub App key, a fresh SQLite
 * file and an API token made for this run. A sample pull request is merged; the dashboard opens
 * through a one-time sign-in link.
 */

export interface DemoOptions {
  /** deploybot's port; a free one when absent. */
  port?: number;
  /** How long each simulated workflow runs (ms). */
  workflowMs?: number;
  write?: (line: string) => void;
}

export interface RunningDemo {
  url: string;
  signInUrl: string;
  slackUrl: string;
  store: Store;
  github: GitHubSimulator;
  slack: SlackSimulator;
  /** Merges the second sample pull request, whose backend deploy fails in staging. */
  mergeFailing(): Promise<void>;
  /** A fresh one-time sign-in address. */
  newSignInUrl(): Promise<string>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`deploybot did not answer on ${url}/healthz (${last})`);
}

/** The simulated GitHub serving the sample repository; workflows report after `workflowMs`. */
export async function startSampleGitHub(workflowMs: number): Promise<GitHubSimulator> {
  return new GitHubSimulator({
    owner: DEMO_OWNER,
    repo: DEMO_REPO,
    installationId: DEMO_INSTALLATION_ID,
    appId: DEMO_APP_ID,
    configYaml: DEMO_CONFIG_YAML,
    workflowMs,
  }).start();
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = mkdtempSync(join(tmpdir(), "deploybot-demo-"));
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const webhookSecret = randomBytes(20).toString("hex");
  const signingSecret = randomBytes(20).toString("hex");
  const botToken = `xoxb-demo-${randomBytes(12).toString("hex")}`;
  const apiToken = randomBytes(24).toString("base64url");

  const github = await startSampleGitHub(options.workflowMs ?? 4_000);
  const slack = await new SlackSimulator({
    botToken,
    signingSecret,
    user: DEMO_APPROVER,
    groupMembers: [DEMO_APPROVER.id],
  }).start();

  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = `sqlite:${join(dir, "deploybot.sqlite")}`;
  setProcessEnv(
    {
      APP_ID: String(DEMO_APP_ID),
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: webhookSecret,
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      DATABASE_URL: databaseUrl,
      DEPLOYBOT_API_TOKENS: `demo:${apiToken}`,
      PORT: String(port),
      HOST: "127.0.0.1",
      DEPLOYBOT_WORKER_POLL_MS: "200",
      LOG_LEVEL: processEnv().LOG_LEVEL || "warn",
    },
    ["PRIVATE_KEY_PATH", "WEBHOOK_PROXY_URL", "NODE_ENV"],
  );
  // deploybot reads .env from its working directory over the environment: the demo's settings win.
  process.chdir(dir);
  await import("../main.js");
  await waitForHealth(url, 30_000);

  github.connect(`${url}/api/github/webhooks`, webhookSecret);
  slack.connect(`${url}/slack/actions`);
  const store = await openStore(databaseUrl);
  const newSignInUrl = async () =>
    `${url}/threads/sign-in?token=${await createSignInToken(store, "demo", new Date())}`;
  const signInUrl = await newSignInUrl();

  await github.merge(FIRST_PULL);
  write(`deploybot is running on ${url} (data in ${dir}).`);
  write(`Merged ${DEMO_OWNER}/${DEMO_REPO}#${FIRST_PULL.number} "${FIRST_PULL.title}".`);
  let failingMerged = false;
  return {
    url,
    signInUrl,
    slackUrl: slack.webUrl,
    store,
    github,
    slack,
    newSignInUrl,
    async mergeFailing() {
      if (failingMerged) return;
      failingMerged = true;
      await github.merge(FAILING_PULL);
      write(
        `Merged ${DEMO_OWNER}/${DEMO_REPO}#${FAILING_PULL.number} "${FAILING_PULL.title}": its backend deploy fails in staging.`,
      );
    },
  };
}

/** Prints each thread's status when it changes, until the process ends. */
export function followThreads(store: Store, write: (line: string) => void): NodeJS.Timeout {
  const seen = new Map<string, string>();
  const describe = (t: ThreadSummary) =>
    `${t.title}: ${t.status.replace(/_/g, " ")}${t.waitingOn ? ` (${t.waitingOn})` : ""}`;
  return setInterval(() => {
    void store.listThreads({ limit: 20 }).then((threads) => {
      for (const t of [...threads].reverse()) {
        const line = describe(t);
        if (seen.get(t.id) !== line) {
          seen.set(t.id, line);
          write(`  · ${line}`);
        }
      }
    });
  }, 500);
}
