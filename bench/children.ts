import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../src/demo/run-demo.js";
import { testPrivateKey } from "../test/helpers/probot.js";

/**
 * Server processes for the benchmarks: deploybot as `npm start` runs it (the compiled dist/main.js,
 * built by `buildDeploybot`) and the bare Probot baseline (through tsx), each a child process with a
 * generated GitHub App key, on loopback, in a fresh temporary directory.
 */

export const BENCH_SECRET = "bench-webhook-secret";
export const BENCH_APP_ID = "1";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "dist", "main.js");
const BASELINE = fileURLToPath(new URL("./baseline-app.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export interface Child {
  url: string;
  dir: string;
  process: ChildProcess;
  /** Resident set size of the process now, in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function waitUntil(ready: () => Promise<boolean>, what: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start within 60 s`);
}

/** Compiles src/ into dist/ (`npm run build`), so deploybot runs as `npm start` runs it. */
export function buildDeploybot(): void {
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
}

function start(script: string, args: string[], env: Record<string, string>, nodeArgs: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "deploybot-bench-"));
  const loader = script.endsWith(".ts") ? ["--import", TSX] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, script, ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      APP_ID: BENCH_APP_ID,
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: BENCH_SECRET,
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { dir, child };
}

function handle(url: string, dir: string, child: ChildProcess): Child {
  return {
    url,
    dir,
    process: child,
    rssMb: () => rssOf(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** deploybot on SQLite in a fresh directory; `env` adds or overrides settings. */
export async function startDeploybot(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Child> {
  const port = await freePort();
  const { dir, child } = start(
    MAIN,
    [],
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: "sqlite:./deploybot.sqlite",
      DEPLOYBOT_DECIDER: "rules",
      ...env,
    },
    nodeArgs,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, "deploybot", child);
  return handle(url, dir, child);
}

/** The bare Probot app of bench/baseline-app.ts. */
export async function startBaseline(nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort();
  const { dir, child } = start(BASELINE, [String(port)], {}, nodeArgs);
  const url = `http://127.0.0.1:${port}`;
  // Any answer means it listens (a GET on the webhook path is Probot's 404).
  await waitUntil(async () => (await fetch(`${url}/api/github/webhooks`)).status > 0, "baseline", child);
  return handle(url, dir, child);
}
