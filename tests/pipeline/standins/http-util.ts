/** Small helpers the stand-in servers share: listen on a random port, read bodies, fault queues. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface Listening {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(handler: Handler, port = 0, host = "127.0.0.1"): Promise<Listening> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: (err as Error).message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function readBody(req: IncomingMessage, max = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new Error("request body too large");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Injected failures: the next `count` matching requests get `status` instead of the real answer;
 * or, with unavailableFor, every request during a time window (an outage of the service).
 */
export class Faults {
  private queue: { status: number; count: number; body?: unknown; delayMs?: number }[] = [];
  private window: { status: number; until: number; body?: unknown } | undefined;
  /** Every request for the next `ms` gets `status` (503 by default), whatever is queued. */
  unavailableFor(ms: number, status = 503, body?: unknown): void {
    this.window = { status, until: Date.now() + ms, body };
  }
  /** True while an unavailableFor window is open. */
  get unavailable(): boolean {
    return this.window !== undefined && Date.now() < this.window.until;
  }
  /** The next `count` requests get `status`; with `delayMs`, only after that long (a slow failure). */
  fail(status: number, count = 1, body?: unknown, delayMs?: number): void {
    this.queue.push({ status, count, body, delayMs });
  }
  /** Requests the queued faults are still waiting for. */
  get queued(): number {
    return this.queue.reduce((n, f) => n + f.count, 0);
  }
  slow(delayMs: number, count = 1): void {
    this.queue.push({ status: 0, count, delayMs });
  }
  /** Lets the next `count` requests through untouched (to place a failure after them). */
  pass(count = 1): void {
    this.queue.push({ status: -1, count });
  }
  clear(): void {
    this.queue = [];
    this.window = undefined;
  }
  /** Takes the next fault, if any. */
  take(): { status: number; body?: unknown; delayMs?: number } | undefined {
    if (this.window && this.unavailable) return { status: this.window.status, body: this.window.body };
    this.window = undefined;
    const f = this.queue[0];
    if (!f) return undefined;
    if (--f.count <= 0) this.queue.shift();
    return f.status === -1 ? undefined : f;
  }
}
