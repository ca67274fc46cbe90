import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A plain node:http server standing in for a service deploybot calls (GitHub, the model, Slack)
 * from another process, where nock cannot reach. It records every request and can be told to
 * SIGKILL deploybot on a given request: after replying to it, or without replying at all. Faults
 * make it slow or lossy the way a real service is: an answer held back, a write performed and its
 * answer lost.
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
  /** The label of the fault applied to this request, if any. */
  fault?: string;
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

/**
 * What a fault does to a request it matches:
 * - `hold`: the answer comes only after `ms`, or once `until` settles, whichever is first (neither:
 *   never, until the server closes). `perform: "late"` (the default) serves the request when the
 *   hold ends, so its side effect is not visible before; `"early"` serves it at once and holds
 *   only the answer.
 * - `lose`: the request is served (a write is performed), then its answer is lost: a 502 is sent
 *   instead (`502`), or the connection is dropped without an answer (`reset`).
 */
export type Fault =
  | { kind: "hold"; ms?: number; until?: Promise<unknown>; perform?: "early" | "late" }
  | { kind: "lose"; how: "502" | "reset" };

export interface FaultRule {
  readonly label: string;
  readonly match: (request: RecordedRequest) => boolean;
  readonly fault: Fault;
  /** How many more requests it applies to. */
  remaining: number;
  /** The requests it applied to, in order. */
  readonly hits: RecordedRequest[];
  /** Whether a `hold` with `until` has been released (then it holds nothing any more). */
  released: boolean;
}

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
  private readonly faults: FaultRule[] = [];
  /** Ends of holds still waiting, called when the server closes so no handler stays pending. */
  private readonly holds = new Set<() => void>();
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

  /**
   * From now on, applies `fault` to the requests `match` accepts, the first `times` of them (all
   * by default). Earlier rules come first; a request gets at most one fault.
   */
  addFault(
    label: string,
    match: (request: RecordedRequest) => boolean,
    fault: Fault,
    times = Number.POSITIVE_INFINITY,
  ): FaultRule {
    const rule: FaultRule = { label, match, fault, remaining: times, hits: [], released: false };
    if (fault.kind === "hold" && fault.until) {
      const release = () => {
        rule.released = true;
      };
      fault.until.then(release, release);
    }
    this.faults.push(rule);
    return rule;
  }

  /** Requests that are being held right now (their answer not sent yet). */
  get held(): number {
    return this.holds.size;
  }

  /** Requests matching a method and a path pattern, in order. */
  find(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  describe(): string {
    return this.requests
      .map(
        (r) =>
          `${r.method} ${r.rawPath}${r.query.size ? `?${r.query}` : ""}${r.fault ? ` [${r.fault}]` : ""}`,
      )
      .join("\n");
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const end of [...this.holds]) end();
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
    const rule = this.faults.find((f) => f.remaining > 0 && !f.released && f.match(request));
    if (!rule) {
      this.send(res, request);
      return;
    }
    rule.remaining -= 1;
    rule.hits.push(request);
    request.fault = rule.label;
    const { fault } = rule;
    if (fault.kind === "lose") {
      this.serve(request); // the write happens; only its answer is lost
      if (fault.how === "reset") {
        res.destroy();
        return;
      }
      this.write(res, { status: 502, json: { message: "Server Error" } });
      return;
    }
    if (fault.perform === "early") {
      const reply = this.serve(request);
      await this.hold(fault);
      this.write(res, reply);
      return;
    }
    await this.hold(fault);
    this.send(res, request);
  }

  /** Waits out a hold: its time, its release, or the server's end. */
  private hold(fault: { ms?: number; until?: Promise<unknown> }): Promise<void> {
    return new Promise<void>((done) => {
      let timer: NodeJS.Timeout | undefined;
      const end = () => {
        if (!this.holds.delete(end)) return;
        clearTimeout(timer);
        done();
      };
      this.holds.add(end);
      if (fault.ms !== undefined) timer = setTimeout(end, fault.ms);
      fault.until?.then(end, end);
    });
  }

  private send(res: ServerResponse, request: RecordedRequest, flushed?: () => void): void {
    this.write(res, this.serve(request), flushed);
  }

  /** Routes a request (performing what it asks for) and returns the reply to send. */
  private serve(request: RecordedRequest): Reply {
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
    return reply;
  }

  private write(res: ServerResponse, reply: Reply, flushed?: () => void): void {
    if (res.destroyed) return;
    const body = reply.text ?? (reply.json === undefined ? "" : JSON.stringify(reply.json));
    res.writeHead(reply.status, {
      "content-type": reply.text !== undefined ? "text/plain; charset=utf-8" : "application/json",
      ...reply.headers,
    });
    res.end(body, flushed);
  }
}
