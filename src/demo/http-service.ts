import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small HTTP service on loopback for the demo's simulated outside services: a request is read
 * whole and handed to a router as plain data; the router's reply is sent as JSON or text.
 */

export interface ServiceRequest {
  method: string;
  /** The path, percent-decoded (GitHub clients encode `/` in content paths as `%2F`). */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface ServiceReply {
  status: number;
  json?: unknown;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
}

export type ServiceRouter = (request: ServiceRequest) => ServiceReply | Promise<ServiceReply>;

export class HttpService {
  private server: Server | undefined;
  private port = 0;

  constructor(
    readonly name: string,
    private readonly router: ServiceRouter,
  ) {}

  async start(host = "127.0.0.1"): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
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

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? "/", "http://service");
      let path = url.pathname;
      try {
        path = decodeURIComponent(path);
      } catch {
        // keep the raw path: the router answers 404 for it
      }
      const reply = await this.router({
        method: req.method ?? "GET",
        path,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const [type, payload] =
        reply.html !== undefined
          ? ["text/html; charset=utf-8", reply.html]
          : reply.text !== undefined
            ? ["text/plain; charset=utf-8", reply.text]
            : reply.json !== undefined
              ? ["application/json; charset=utf-8", JSON.stringify(reply.json)]
              : [null, ""];
      res.writeHead(reply.status, { ...(type ? { "content-type": type } : {}), ...reply.headers });
      res.end(payload);
    } catch (error) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `${this.name} simulator failed: ${String(error)}` }));
    }
  }
}
