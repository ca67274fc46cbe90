import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { EVALS_DIR } from "./cases.js";

/**
 * Recorded model answers, one file per case in evals/recorded/: the message contents a model gave,
 * in order. A local server plays them back as Chat Completions, so the openai decider's request,
 * parsing and retries run end to end without a network; `--record` in live mode writes them.
 */

export const RecordedAnswers = z.strictObject({
  /** Where the answers came from: a model name, or "hand-written" for answers written for the case. */
  source: z.string(),
  answers: z.array(z.string()).min(1),
});
export type RecordedAnswers = z.infer<typeof RecordedAnswers>;

export const RECORDED_DIR = join(EVALS_DIR, "recorded");

export function recordedFile(name: string, dir = RECORDED_DIR): string {
  return join(dir, `${name}.json`);
}

export function readRecorded(name: string): RecordedAnswers | null {
  const file = recordedFile(name);
  if (!existsSync(file)) return null;
  const parsed = RecordedAnswers.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success)
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

export function writeRecorded(name: string, recorded: RecordedAnswers, dir = RECORDED_DIR): void {
  writeFileSync(recordedFile(name, dir), `${JSON.stringify(recorded, null, 2)}\n`);
}

function completion(content: string) {
  return {
    id: "chatcmpl-recorded",
    object: "chat.completion",
    created: 1_764_000_000,
    model: "recorded",
    choices: [
      {
        index: 0,
        finish_reason: "stop",
        logprobs: null,
        message: { role: "assistant", content, refusal: null },
      },
    ],
    usage: null,
  };
}

/**
 * Serves `/case/<name>/v1/chat/completions` on 127.0.0.1: the case's recorded answers, one per call,
 * in order (the last one again when the decider asks more often than there are answers).
 */
export async function startRecordedServer(): Promise<{
  baseUrlFor(name: string): string;
  close(): Promise<void>;
}> {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const match = /^\/case\/([\w.-]+)\/v1\/chat\/completions$/.exec(req.url ?? "");
    req.resume();
    const recorded = match ? readRecorded(match[1]!) : null;
    if (!match || !recorded) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no recorded answers for ${req.url}` } }));
      return;
    }
    const index = calls.get(match[1]!) ?? 0;
    calls.set(match[1]!, index + 1);
    const content = recorded.answers[Math.min(index, recorded.answers.length - 1)]!;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(completion(content)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrlFor: (name) => `http://127.0.0.1:${port}/case/${name}/v1`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
