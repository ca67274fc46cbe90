import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sign } from "@octokit/webhooks-methods";
import { signSlackRequest } from "../../src/slack/verify.js";
import { httpRequest } from "../helpers/http.js";
import { APP_ID, testPrivateKey, WEBHOOK_SECRET } from "../helpers/probot.js";

/**
 * deploybot as a real process (`node --import tsx src/main.ts`), on a SQLite file or a PostgreSQL
 * database that outlives it, talking to fakes in the test process. `kill()` is a SIGKILL: no
 * shutdown code runs.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SLACK_SIGNING_SECRET = "crash-slack-signing-secret-0123456789";
export const STARTUP_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 20_000;

export interface AppOptions {
  /** A SQLite file; or give `databaseUrl`. */
  databasePath?: string;
  /** DATABASE_URL itself (e.g. postgres://...), instead of `databasePath`. */
  databaseUrl?: string;
  /** host:port of the fake GitHub. */
  githubHost: string;
  /** Base URL of a fake OpenAI-compatible server; without it the rules decider decides. */
  modelUrl?: string;
  /** Base URL of a fake Slack; without it Slack is off. */
  slackUrl?: string;
  pollMs?: number;
  leaseMs?: number;
  /** LOG_LEVEL; `warn` by default. */
  logLevel?: "debug" | "info" | "warn";
  /** DEPLOYBOT_WORKER_CONCURRENCY: how many inbox entries one process handles at once. */
  concurrency?: number;
}

/** Fails with a clear message when a `.env` in the repository root would override the test's settings. */
export function assertNoDotEnv(): void {
  const file = join(REPO_ROOT, ".env");
  if (existsSync(file)) {
    throw new Error(
      `${file} exists: deploybot loads it over the process environment, so these crash tests would not ` +
        "run with their own settings. Move it away (it is not deleted by the tests) and run again.",
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Children still running; killed when the test process exits, whatever way it ends. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export class AppProcess {
  private output = "";
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    live.add(child);
    this.exited = new Promise<void>((done) => {
      child.once("exit", (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        done();
      });
    });
  }

  /** Starts deploybot and waits until `GET /healthz` answers 200. */
  static async start(label: string, options: AppOptions): Promise<AppProcess> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const app = AppProcess.spawn(label, options, port);
      try {
        await app.waitHealthy();
        return app;
      } catch (error) {
        await app.kill();
        // Another process may have taken the free port between the probe and the child's listen.
        if (attempt < 3 && app.output.includes("EADDRINUSE")) continue;
        throw error;
      }
    }
  }

  private static spawn(label: string, options: AppOptions, port: number): AppProcess {
    const databaseUrl =
      options.databaseUrl ?? (options.databasePath ? `sqlite:${options.databasePath}` : undefined);
    if (!databaseUrl) throw new Error(`deploybot ${label}: give databasePath or databaseUrl`);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? REPO_ROOT,
      NODE_ENV: "test",
      APP_ID: String(APP_ID),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      GHE_HOST: options.githubHost,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: options.logLevel ?? "warn",
      DEPLOYBOT_WORKER_POLL_MS: String(options.pollMs ?? 50),
      DEPLOYBOT_INBOX_LEASE_MS: String(options.leaseMs ?? 2_000),
    };
    if (options.concurrency !== undefined) env.DEPLOYBOT_WORKER_CONCURRENCY = String(options.concurrency);
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
    if (options.modelUrl) {
      Object.assign(env, {
        OPENAI_API_KEY: "test",
        OPENAI_BASE_URL: `${options.modelUrl}/v1`,
        OPENAI_MODEL: "test-model",
      });
    }
    if (options.slackUrl) {
      Object.assign(env, {
        SLACK_BOT_TOKEN: "xoxb-test",
        SLACK_SIGNING_SECRET,
        SLACK_API_URL: `${options.slackUrl}/api/`,
      });
    }
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new AppProcess(label, child, port);
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** What the process printed (stdout and stderr, the last part), and how it ended, for failure messages. */
  describe(): string {
    const end = this.exit
      ? `exited with ${this.exit.signal ?? `code ${this.exit.code}`}`
      : `running (pid ${this.pid})`;
    return `--- deploybot ${this.label}: ${end}; its output:\n${this.output.trim() || "(nothing)"}\n---`;
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`deploybot ${this.label} did not start\n${this.describe()}`);
      try {
        const response = await httpRequest(`${this.base}/healthz`);
        if (response.status === 200) return;
        last = `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
      } catch (error) {
        last = String(error);
      }
      await sleep(100);
    }
    throw new Error(
      `deploybot ${this.label} was not healthy within ${STARTUP_TIMEOUT_MS} ms (${last})\n${this.describe()}`,
    );
  }

  /** SIGKILL, and wait until the process is gone. Safe to call on a process that already ended. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill("SIGKILL");
    await this.exited;
  }

  /**
   * SIGTERM: the process stops claiming work, lets running work finish within its grace period and
   * exits. Returns how it exited, or null if it was still running after `timeoutMs`.
   */
  async terminate(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    if (this.running) this.child.kill("SIGTERM");
    await Promise.race([this.exited, new Promise((done) => setTimeout(done, timeoutMs))]);
    return this.exit;
  }

  async webhook(
    event: string,
    payload: unknown,
    deliveryId = `crash-${randomUUID()}`,
  ): Promise<{ status: number; body: string }> {
    const body = JSON.stringify(payload);
    return httpRequest(`${this.base}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": deliveryId,
        "x-hub-signature-256": await sign(WEBHOOK_SECRET, body),
      },
      body,
    });
  }

  /** A signed Slack interactivity request (a form body with a `payload` field). */
  async slackAction(body: string): Promise<{ status: number; body: string }> {
    const timestamp = Math.floor(Date.now() / 1000);
    return httpRequest(`${this.base}/slack/actions`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": signSlackRequest(SLACK_SIGNING_SECRET, timestamp, body),
      },
      body,
    });
  }
}

/**
 * Polls `probe` until it returns a value other than undefined/null/false, or fails after
 * `timeoutMs` with a message naming what it waited for, the state `context` describes and the output
 * of the deploybot processes.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; context?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(options.intervalMs ?? 50);
  }
  const context = options.context ? await options.context() : "";
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}` +
      (lastError ? `\nlast probe error: ${String(lastError)}` : "") +
      (context ? `\n${context}` : ""),
  );
}
