import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A plain node:http server standing in for a service deploybot calls (GitHub, the model, Slack)
 * from another process, where nock cannot reach. It records every request and can be told to
 * SIGKILL deploybot on a given request: after replying to it, or without replying at all.
 */

export interface RecordedRequest {
  method: string;
  /** The path, percent-decoded (`.github%2Fdeploybot.yml` and `.github/deploybot.yml` match alike). */
  path: string;
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export interface Reply {
  status: number;
  /** Sent as JSON, unless `text` is given. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** Answers a request, or null for "no such route" (a 404 that the test can assert never happened). */
export type Router = (request: RecordedRequest) => Reply | null;

export type KillMode = "reply-then-kill" | "kill-without-reply";

interface Trap {
  match: (request: RecordedRequest) => boolean;
  mode: KillMode;
  kill: () => Promise<void>;
  fired: boolean;
  resolve: (request: RecordedRequest) => void;
  reject: (error: unknown) => void;
}

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests no route answered. */
  readonly unmatched: RecordedRequest[] = [];
  private readonly traps: Trap[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(
    readonly name: string,
    private readonly router: Router,
  ) {}

  async start(): Promise<this> {
    // A request cut off by the kill must not become an unhandled rejection in the test process.
    const server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** host:port */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  /**
   * On the first request that matches (from now on), kills deploybot with `kill` (which SIGKILLs
   * the child and waits for its exit). Resolves with that request once the child is gone.
   */
  killOn(
    match: (request: RecordedRequest) => boolean,
    mode: KillMode,
    kill: () => Promise<void>,
  ): Promise<RecordedRequest> {
    return new Promise<RecordedRequest>((resolve, reject) => {
      this.traps.push({ match, mode, kill, fired: false, resolve, reject });
    });
  }

  /** Requests matching a method and a path pattern, in order. */
  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  describe(): string {
    return this.requests
      .map((r) => `${r.method} ${r.rawPath}${r.query.size ? `?${r.query}` : ""}`)
      .join("\n");
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    let path = url.pathname;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      // keep the raw path
    }
    const request: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      rawPath: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
      at: Date.now(),
    };
    this.requests.push(request);

    const trap = this.traps.find((t) => !t.fired && t.match(request));
    if (trap) {
      trap.fired = true;
      if (trap.mode === "kill-without-reply") {
        try {
          await trap.kill();
          trap.resolve(request);
        } catch (error) {
          trap.reject(error);
        }
        res.destroy();
        return;
      }
      // Reply first (the side effect happened, as far as the service is concerned), then kill.
      this.send(res, request, () => {
        trap.kill().then(
          () => trap.resolve(request),
          (error: unknown) => trap.reject(error),
        );
      });
      return;
    }
    this.send(res, request);
  }

  private send(res: ServerResponse, request: RecordedRequest, flushed?: () => void): void {
    let reply: Reply | null;
    try {
      reply = this.router(request);
    } catch (error) {
      reply = { status: 500, json: { message: `${this.name} fake failed: ${String(error)}` } };
    }
    if (!reply) {
      this.unmatched.push(request);
      reply = { status: 404, json: { message: "Not Found" } };
    }
    const body = reply.text ?? (reply.json === undefined ? "" : JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      "content-type": reply.text !== undefined ? "text/plain; charset=utf-8" : "application/json",
      ...reply.headers,
    });
    res.end(body, flushed);
  }
}
