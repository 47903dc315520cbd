/**
 * A store (shop) API honouring Idempotency-Key the way payment/commerce APIs do: the first
 * POST /products with a key is processed; a repeat with the same key and body replays the
 * stored response (same status, header Idempotent-Replayed: true) and writes nothing; the same
 * key with a different body is 422; a request while the first one with the key is still running
 * is 409. Requests without a key are 400. A processed request creates the product (201) or,
 * when a product with the same `externalId` exists, updates it in place (200, same id): the
 * store keeps one product per pipeline product.
 *
 * `stats` (also GET /stats) counts real writes (creates, updates) apart from replays and
 * refusals, so a test can tell "the store got the change" from "the store replayed";
 * `writesByExternalId` counts them per pipeline product (a product written twice is a duplicate
 * push unless its content changed in between).
 */
import { createHash, randomUUID } from "node:crypto";
import { Faults, listen, readBody, sendJson, sleep, type Listening } from "./http-util.js";

export interface StoreStats {
  /** Products created (201). */
  creates: number;
  /** Existing products updated by a request with a new key (200). */
  updates: number;
  /** Requests answered from the idempotency record (Idempotent-Replayed: true); no write. */
  replays: number;
  /** 409: a request with the same key was still in progress. */
  conflicts: number;
  /** 422: the key was reused with a different body. */
  keyReuses: number;
  /** Injected failures answered instead of the real response. */
  faults: number;
}

export class StoreStandin {
  readonly faults = new Faults();
  readonly products = new Map<string, Record<string, unknown>>();
  readonly requests: { key: string | undefined; status: number; replayed: boolean }[] = [];
  readonly stats: StoreStats = { creates: 0, updates: 0, replays: 0, conflicts: 0, keyReuses: 0, faults: 0 };
  /** Real writes (creates and updates) per externalId. */
  readonly writesByExternalId = new Map<string, number>();
  private readonly keys = new Map<string, { fingerprint: string; status: number; body: unknown } | "in-flight">();
  private readonly byExternalId = new Map<string, string>();
  private listening!: Listening;

  constructor(private readonly token?: string) {}

  /** Real writes: creates plus updates (replays are not writes). */
  get writes(): number {
    return this.stats.creates + this.stats.updates;
  }

  static async start(opts: { token?: string; port?: number } = {}): Promise<StoreStandin> {
    const s = new StoreStandin(opts.token);
    s.listening = await listen(async (req, res, url) => {
      if (s.token && req.headers.authorization !== `Bearer ${s.token}`) return sendJson(res, 401, { error: "unauthorized" });
      if (req.method === "GET" && url.pathname === "/products") return sendJson(res, 200, [...s.products.entries()].map(([id, p]) => ({ id, ...p })));
      if (req.method === "GET" && url.pathname === "/stats") return sendJson(res, 200, { ...s.stats, writes: s.writes });
      if (req.method !== "POST" || url.pathname !== "/products") return sendJson(res, 404, { error: "not found" });
      const key = req.headers["idempotency-key"] as string | undefined;
      const raw = await readBody(req);
      const done = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        s.requests.push({ key, status, replayed: headers["idempotent-replayed"] === "true" });
        sendJson(res, status, body, headers);
      };
      const fault = s.faults.take();
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.status) {
        s.stats.faults++;
        return done(fault.status, fault.body ?? { error: "injected failure" });
      }
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
      if (prior === "in-flight") {
        s.stats.conflicts++;
        return done(409, { error: "a request with this Idempotency-Key is in progress" });
      }
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          s.stats.keyReuses++;
          return done(422, { error: "Idempotency-Key reused with a different request body" });
        }
        s.stats.replays++;
        return done(prior.status, prior.body, { "idempotent-replayed": "true" });
      }
      s.keys.set(key, "in-flight");
      const externalId = typeof doc.externalId === "string" ? doc.externalId : undefined;
      const existing = externalId ? s.byExternalId.get(externalId) : undefined;
      const id = existing ?? `sp_${randomUUID().slice(0, 8)}`;
      s.products.set(id, doc);
      if (externalId) {
        s.byExternalId.set(externalId, id);
        s.writesByExternalId.set(externalId, (s.writesByExternalId.get(externalId) ?? 0) + 1);
      }
      const status = existing ? 200 : 201;
      if (existing) s.stats.updates++;
      else s.stats.creates++;
      const body = { id, title: doc.title, [existing ? "updatedAt" : "createdAt"]: new Date().toISOString() };
      s.keys.set(key, { fingerprint, status, body });
      return done(status, body);
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
