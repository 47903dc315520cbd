/**
 * A store (shop) API honouring Idempotency-Key the way payment/commerce APIs do: the first
 * POST /products with a key creates the product (201); a repeat with the same key and body
 * replays the stored response (same status, header Idempotent-Replayed: true) and creates
 * nothing; the same key with a different body is 422; a request while the first one with the
 * key is still running is 409. Requests without a key are 400.
 */
import { createHash, randomUUID } from "node:crypto";
import { Faults, listen, readBody, sendJson, sleep, type Listening } from "./http-util.js";

export class StoreStandin {
  readonly faults = new Faults();
  readonly products = new Map<string, Record<string, unknown>>();
  readonly requests: { key: string | undefined; status: number }[] = [];
  private readonly keys = new Map<string, { fingerprint: string; status: number; body: unknown } | "in-flight">();
  private listening!: Listening;

  constructor(private readonly token?: string) {}

  static async start(opts: { token?: string; port?: number } = {}): Promise<StoreStandin> {
    const s = new StoreStandin(opts.token);
    s.listening = await listen(async (req, res, url) => {
      if (s.token && req.headers.authorization !== `Bearer ${s.token}`) return sendJson(res, 401, { error: "unauthorized" });
      if (req.method === "GET" && url.pathname === "/products") return sendJson(res, 200, [...s.products.entries()].map(([id, p]) => ({ id, ...p })));
      if (req.method !== "POST" || url.pathname !== "/products") return sendJson(res, 404, { error: "not found" });
      const key = req.headers["idempotency-key"] as string | undefined;
      const raw = await readBody(req);
      const done = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        s.requests.push({ key, status });
        sendJson(res, status, body, headers);
      };
      const fault = s.faults.take();
      if (fault?.delayMs) await sleep(fault.delayMs);
      else if (fault) return done(fault.status, fault.body ?? { error: "injected failure" });
      if (!key) return done(400, { error: "Idempotency-Key header is required" });
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      } catch {
        return done(400, { error: "malformed JSON" });
      }
      if (typeof doc.title !== "string" || !doc.title) return done(422, { error: "title is required" });
      const fingerprint = createHash("sha256").update(raw).digest("hex");
      const prior = s.keys.get(key);
      if (prior === "in-flight") return done(409, { error: "a request with this Idempotency-Key is in progress" });
      if (prior) {
        if (prior.fingerprint !== fingerprint) return done(422, { error: "Idempotency-Key reused with a different request body" });
        return done(prior.status, prior.body, { "idempotent-replayed": "true" });
      }
      s.keys.set(key, "in-flight");
      const id = `sp_${randomUUID().slice(0, 8)}`;
      s.products.set(id, doc);
      const body = { id, title: doc.title, createdAt: new Date().toISOString() };
      s.keys.set(key, { fingerprint, status: 201, body });
      return done(201, body);
    }, opts.port);
    return s;
  }

  get url(): string {
    return this.listening.url;
  }
  close(): Promise<void> {
    return this.listening.close();
  }
}
