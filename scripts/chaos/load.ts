/**
 * The chaos run's clients, as real users drive the pipeline: a sender that imports new products
 * through the API at a steady rate (POST /v1/imports with the API token, retried until the API
 * accepts it), and a reviewer that approves every product waiting in review (which queues its
 * push). Both go over HTTP to the API process, never to the database.
 */
import { LOCAL_TOKENS, type LocalPlatform } from "../local/platform.js";
import type { Random } from "./random.js";

/** An import the API acknowledged (202): what the final check holds the pipeline to. */
export interface AcknowledgedImport {
  readonly importId: string;
  readonly sourceUrl: string;
  readonly jobId: string;
}

/** Share of products whose image is corrupt: their image job dies on purpose, with a reason. */
export const BROKEN_IMAGE_SHARE = 0.01;
const SEND_ATTEMPTS = 30;
const MAX_IN_FLIGHT = 64;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(platform: LocalPlatform, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(platform.urls.api + path, {
    method,
    headers: { authorization: `Bearer ${LOCAL_TOKENS.api}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

export interface SendResult {
  readonly acknowledged: AcknowledgedImport[];
  /** Imports the API never accepted after every attempt (not sent; reported). */
  readonly refused: number;
  /** Requests that failed and were sent again. */
  readonly retries: number;
}

/** Sends `count` imports at `rate` per second; resolves when each is acknowledged or given up. */
export async function sendImports(platform: LocalPlatform, opts: { count: number; rate: number; rng: Random; runId: string; signal?: AbortSignal }): Promise<SendResult> {
  const acknowledged: AcknowledgedImport[] = [];
  let refused = 0;
  let retries = 0;
  let inFlight = 0;
  const started = Date.now();
  const sendOne = async (i: number) => {
    const broken = opts.rng.next() < BROKEN_IMAGE_SHARE;
    const sourceUrl = platform.site.setProduct(`${opts.runId}-${i}`, {
      title: `Chaos product ${i}`,
      description: "A product of the chaos run.",
      price: "10.00",
      currency: "EUR",
      images: [broken ? "corrupt.jpg" : "green.jpg"],
      format: "json",
    });
    for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      const r = await call(platform, "POST", "/v1/imports", { sourceUrl }).catch(() => undefined);
      if (r?.status === 202) {
        const b = r.body as { importId: string; items: { sourceUrl: string; jobId: string }[] };
        acknowledged.push({ importId: b.importId, sourceUrl, jobId: b.items[0]!.jobId });
        return;
      }
      retries++;
      await sleep(Math.min(2000, 100 * attempt));
    }
    refused++;
  };
  const pending: Promise<void>[] = [];
  for (let i = 0; i < opts.count; i++) {
    if (opts.signal?.aborted) break;
    const due = started + (i * 1000) / opts.rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= MAX_IN_FLIGHT) await sleep(5);
    inFlight++;
    pending.push(sendOne(i).finally(() => inFlight--));
  }
  await Promise.all(pending);
  return { acknowledged, refused, retries };
}

/** Approves every product in review until stopped; returns how many approvals the API accepted. */
export class Reviewer {
  approved = 0;
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly platform: LocalPlatform) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const page = await call(this.platform, "GET", "/v1/products?status=in_review&limit=200").catch(() => undefined);
      const items = page?.status === 200 ? (page.body as { items: { id: string; version: number }[] }).items : [];
      for (let i = 0; i < items.length && this.running; i += 10) {
        const results = await Promise.all(
          items.slice(i, i + 10).map((p) => call(this.platform, "POST", `/v1/products/${p.id}/review`, { decision: "approve", reviewer: "chaos", version: p.version }).catch(() => undefined)),
        );
        this.approved += results.filter((r) => r?.status === 200).length;
      }
      if (items.length < 200) await sleep(300);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
