import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { clip } from "../thread/text.js";

/** Request bodies are read whole, up to a limit; more is refused with 413 before it is buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

export function pathOf(req: IncomingMessage): string {
  return (req.url ?? "").split("?")[0] ?? "";
}

/**
 * Whether JSON text nests objects and arrays deeper than `max`. A scan of the text, without
 * recursion: a document nested 10,000 levels deep parses, but would overflow the stack of
 * anything that walks it recursively (JSON.stringify, a schema). It jumps from one structural
 * character to the next and over whole strings, so a 25 KB webhook costs a few microseconds.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
      if (i === -1) return false; // an unterminated string: JSON.parse refuses the text
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/** The index of the quote that closes the string opened at `open` (one not escaped), or -1. */
function closingQuote(text: string, open: number): number {
  let end = open;
  for (;;) {
    end = text.indexOf('"', end + 1);
    if (end === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return end;
  }
}

/** Decodes one percent-encoded path segment; a malformed escape (`%E0%A4%A`) is the caller's 400. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path: ${clip(segment, 60)}`);
  }
}

/** A JSON body parsed with its schema: 415 for another media type, 400 naming what is wrong. */
export async function readJsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>, limit: number): Promise<T> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return schema.parse({});
  if (mediaType(req) !== "application/json") throw new HttpError(415, "expected application/json");
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    throw new HttpError(400, `invalid body: ${problems.join("; ")}`);
  }
  return result.data;
}
