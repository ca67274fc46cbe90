import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { THREAD_STATUSES } from "../thread/events.js";
import { apiClientFrom } from "./api-client.js";
import { formatChecks, runDoctor } from "./doctor.js";
import { CliError, parseArgs, type CliIo } from "./io.js";

/**
 * The `deploybot` command table: one entry per command, its usage line and what it runs. A new
 * command (a script's entry point, say) is one more entry.
 */

export interface Command {
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** The project's root (where package.json and the decision tools live), from src/cli or dist/cli. */
const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Runs one of the decision tools (`npm run eval` / `npm run replay`) with the arguments given; they
 * run TypeScript through tsx, so they need a checkout with the dev dependencies installed.
 */
function npmScript(script: string): Command["run"] {
  return (args) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
        cwd: PROJECT_ROOT,
        stdio: "inherit",
      });
      child.once("error", reject);
      child.once("exit", (code) => resolve(code ?? 1));
    });
}

interface ThreadRow {
  id: string;
  repo: string;
  title: string;
  status: string;
  updatedAt: string;
}

function threadRows(body: unknown): ThreadRow[] {
  const threads = typeof body === "object" && body !== null ? (body as { threads?: unknown }).threads : null;
  return Array.isArray(threads) ? (threads as ThreadRow[]) : [];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

async function threadsLs(args: string[], io: CliIo): Promise<number> {
  const { options } = parseArgs(args);
  const params = new URLSearchParams();
  const status = options.get("status");
  if (status) {
    const unknown = status.split(",").filter((s) => !(THREAD_STATUSES as readonly string[]).includes(s));
    if (unknown.length)
      throw new CliError(`unknown status ${unknown.join(", ")}; known: ${THREAD_STATUSES.join(", ")}`);
    params.set("status", status);
  }
  if (options.get("repo")) params.set("repo", options.get("repo")!);
  if (options.get("limit")) params.set("limit", options.get("limit")!);
  const search = params.toString();
  const rows = threadRows(await apiClientFrom(io.env).get(`/threads${search ? `?${search}` : ""}`));
  if (rows.length === 0) {
    io.out("No threads.");
    return 0;
  }
  io.out(
    table([
      ["THREAD", "STATUS", "UPDATED", "REPOSITORY", "TITLE"],
      ...rows.map((t) => [t.id, t.status, t.updatedAt.slice(0, 19).replace("T", " "), t.repo, t.title]),
    ]),
  );
  return 0;
}

async function threadsShow(args: string[], io: CliIo): Promise<number> {
  const [id] = parseArgs(args).positional;
  if (!id) throw new CliError("usage: deploybot threads show <thread id>");
  const body = await apiClientFrom(io.env).get(`/threads/${encodeURIComponent(id)}`);
  const markdown =
    typeof body === "object" && body !== null ? (body as { markdown?: unknown }).markdown : null;
  io.out(typeof markdown === "string" ? markdown : JSON.stringify(body, null, 2));
  return 0;
}

/** approve, reject, pause, resume, cancel: `POST /api/v1/threads/{id}/{action}`, with a reason when given. */
function threadAction(action: "approve" | "reject" | "pause" | "resume" | "cancel"): Command["run"] {
  return async (args, io) => {
    const { positional, options } = parseArgs(args);
    const [id, ...words] = positional;
    const reason = options.get("reason") ?? (words.length ? words.join(" ") : undefined);
    if (!id)
      throw new CliError(
        `usage: deploybot ${action} <thread id>${action === "reject" ? " --reason <why>" : " [--reason <why>]"}`,
      );
    if (action === "reject" && !reason)
      throw new CliError(
        "say why: deploybot reject <thread id> --reason <why> (the reason goes to the thread)",
      );
    const body = reason ? { reason } : {};
    await apiClientFrom(io.env).post(`/threads/${encodeURIComponent(id)}/${action}`, body);
    io.out(`${action} sent for ${id}: deploybot handles it from its inbox (deploybot threads show ${id}).`);
    return 0;
  };
}

export const COMMANDS: Record<string, Command> = {
  "threads ls": {
    usage: "threads ls [--status s1,s2] [--repo owner/name] [--limit n]",
    summary: "list threads, most recently active first",
    run: threadsLs,
  },
  "threads show": { usage: "threads show <id>", summary: "a thread as markdown", run: threadsShow },
  approve: {
    usage: "approve <id>",
    summary: "approve the step the thread waits for",
    run: threadAction("approve"),
  },
  reject: {
    usage: "reject <id> --reason <why>",
    summary: "reject it, with a reason the thread plans with",
    run: threadAction("reject"),
  },
  pause: { usage: "pause <id> [--reason <why>]", summary: "pause a thread", run: threadAction("pause") },
  resume: { usage: "resume <id>", summary: "resume a paused thread", run: threadAction("resume") },
  cancel: { usage: "cancel <id> [--reason <why>]", summary: "cancel a thread", run: threadAction("cancel") },
  eval: {
    usage: "eval [--mode rules|recorded|live] [--case <name>] [--record] [--show-context]",
    summary: "run the decision cases in evals/ (from a checkout with dev dependencies)",
    run: npmScript("eval"),
  },
  replay: {
    usage: "replay <thread id>... | --since 7d",
    summary: "decide stored threads again and show where the answers differ (DATABASE_URL)",
    run: npmScript("replay"),
  },
  demo: {
    usage: "demo",
    summary: "run deploybot against a simulated GitHub and Slack (no credentials)",
    run: async () => {
      await import("../demo/main.js");
      return new Promise<number>(() => {}); // runs until Ctrl+C
    },
  },
  doctor: {
    usage: "doctor",
    summary: "check the settings, GitHub App, Slack, database and model, and say how to fix each",
    run: async (_args, io) => {
      const results = await runDoctor(io.env, process.cwd(), new Date());
      io.out(formatChecks(results));
      return results.some((r) => r.state === "fail") ? 1 : 0;
    },
  },
};

export function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    "usage: deploybot <command>",
    "",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Commands that talk to a running deploybot read DEPLOYBOT_URL and DEPLOYBOT_TOKEN.",
  ].join("\n");
}

/** Finds the command (one word, or two such as `threads ls`) and runs it; the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second, ...rest] = argv;
  if (!first || first === "help" || first === "--help" || first === "-h") {
    io.out(usage());
    return first ? 0 : 2;
  }
  const two = second !== undefined ? COMMANDS[`${first} ${second}`] : undefined;
  const command = two ?? COMMANDS[first];
  const args = two ? rest : argv.slice(1);
  if (!command) {
    io.err(`deploybot: unknown command "${[first, second].filter(Boolean).join(" ")}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run([...args], io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`deploybot: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
