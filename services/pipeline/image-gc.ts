/**
 * The image garbage collector: removes image objects that no product image refers to any more
 * (images replaced by a re-import, products deleted), run periodically by the scheduler role.
 *
 * One run walks the object storage under `products/` in key order, from where the previous run
 * stopped (a cursor kept in memory; it wraps to the start at the end of the keys), and for each
 * page asks the database which of the listed keys the products' image rows still name (the key
 * layout `products/<productId>/...` lets it read only those products' rows). An object is
 * removed when it is older than the grace period and unreferenced; young objects, referenced
 * objects and keys outside the layout are left alone.
 *
 * Why this is safe against an image job that is writing right now: the image worker stores each
 * variant under a key written once (a fresh id per processing of an image, never rewritten) and
 * records it in the product's image row right after. An object younger than the grace may still
 * be about to be recorded and is kept; an object older than the grace that no row names can
 * never become referenced again. The grace (IMAGE_GC_GRACE_MS, at least 10 minutes) is far
 * longer than an image job may run.
 *
 * Idempotent (a second run finds nothing to remove) and bounded: at most `maxDeletes` removals
 * and `maxListed` listed objects per run. Safe in several processes at once: a key deleted twice
 * is no error.
 */
import { IMAGE_KEY_PREFIX } from "../../model/workloads.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";
import { imageGcBytesFreedTotal, imageGcObjectsRemovedTotal, imageGcRunsTotal } from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import type { ObjectStorage, StoredObject } from "./storage.js";

/** Where the image worker stores products' images (services/workers/image.ts). */
export const IMAGE_PREFIX = IMAGE_KEY_PREFIX;

/** The object key of one processed image variant: written once, never overwritten. */
export function imageObjectKey(productId: string, checksum: string, writeId: string, variant: string, ext: string): string {
  return `${IMAGE_PREFIX}${productId}/${checksum.slice(0, 16)}/${writeId}/${variant}.${ext}`;
}

const PRODUCT_IN_KEY = /(?:^|\/)products\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//;

export interface ImageGcOptions {
  /** Objects younger than this are kept. */
  readonly graceMs: number;
  /** Removals per run. */
  readonly maxDeletes: number;
  /** Objects listed per run (bounds a run over a bucket with few removals). */
  readonly maxListed?: number;
  readonly pageSize?: number;
}

export interface ImageGcResult {
  readonly listed: number;
  readonly removed: number;
  readonly bytesFreed: number;
  readonly keptReferenced: number;
  readonly keptYoung: number;
  /** Keys outside the `products/<productId>/` layout: never removed. */
  readonly keptUnknown: number;
  /** Where the next run starts (undefined: from the beginning). */
  readonly cursor: string | undefined;
}

export interface ImageGcDeps {
  readonly db: Database;
  readonly storage: ObjectStorage;
  readonly metrics: MetricsRegistry;
}

/** One bounded pass from `cursor`. */
export async function collectImageGarbage(deps: ImageGcDeps, opts: ImageGcOptions, now: Date, cursor?: string): Promise<ImageGcResult> {
  const cutoff = now.getTime() - opts.graceMs;
  const pageSize = opts.pageSize ?? 1000;
  const maxListed = opts.maxListed ?? 100_000;
  let listed = 0;
  let removed = 0;
  let bytesFreed = 0;
  let keptReferenced = 0;
  let keptYoung = 0;
  let keptUnknown = 0;
  let startAfter = cursor;
  const result = (next: string | undefined): ImageGcResult => ({ listed, removed, bytesFreed, keptReferenced, keptYoung, keptUnknown, cursor: next });
  for (;;) {
    const page = await deps.storage.list({ prefix: IMAGE_PREFIX, startAfter, limit: pageSize });
    listed += page.objects.length;
    const old: StoredObject[] = [];
    for (const o of page.objects) {
      if (o.lastModified.getTime() > cutoff) keptYoung++;
      else if (PRODUCT_IN_KEY.test(o.key)) old.push(o);
      else keptUnknown++;
    }
    const referenced = await referencedKeys(deps.db, old);
    const garbage = old.filter((o) => !referenced.has(o.key));
    keptReferenced += old.length - garbage.length;
    const budget = opts.maxDeletes - removed;
    const batch = garbage.slice(0, budget);
    const deleted = new Set(await deps.storage.delete(batch.map((o) => o.key)));
    for (const o of batch) {
      if (!deleted.has(o.key)) continue;
      removed++;
      bytesFreed += o.bytes;
    }
    if (garbage.length > budget) {
      // Out of removals mid-page: the next run resumes right after the last one removed.
      return result(batch.at(-1)?.key ?? startAfter);
    }
    if (!page.next) return result(undefined);
    startAfter = page.next;
    if (listed >= maxListed) return result(startAfter);
  }
}

/** The keys among `objects` that an image row of their product names (any variant). */
async function referencedKeys(db: Database, objects: readonly StoredObject[]): Promise<Set<string>> {
  const productIds = [...new Set(objects.map((o) => PRODUCT_IN_KEY.exec(o.key)![1]!))];
  if (productIds.length === 0) return new Set();
  const r = await db.sql.query<{ key: string }>(
    `SELECT DISTINCT v->>'key' AS key
     FROM product_images pi CROSS JOIN LATERAL jsonb_array_elements(pi.variants) AS v
     WHERE pi.product_id = ANY($1::uuid[]) AND v->>'key' = ANY($2::text[])`,
    [productIds, objects.map((o) => o.key)],
  );
  return new Set(r.rows.map((x) => x.key));
}

/** Runs the collector every `intervalMs` (scheduler role), one run at a time, with metrics. */
export class ImageGarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ImageGcResult | undefined> | undefined;
  private cursor: string | undefined;
  private readonly m;

  constructor(
    private readonly deps: ImageGcDeps & { readonly logger: Logger },
    private readonly opts: ImageGcOptions & { readonly intervalMs: number },
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.m = {
      runs: deps.metrics.counter(imageGcRunsTotal),
      removed: deps.metrics.counter(imageGcObjectsRemovedTotal),
      bytes: deps.metrics.counter(imageGcBytesFreedTotal),
    };
  }

  start(): void {
    if (this.timer || this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.runOnce(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One run (skipped while another is running); errors are logged and counted, never thrown. */
  async runOnce(): Promise<ImageGcResult | undefined> {
    if (this.running) return undefined;
    this.running = (async () => {
      try {
        const r = await collectImageGarbage(this.deps, this.opts, this.clock(), this.cursor);
        this.cursor = r.cursor;
        this.m.runs.inc({ outcome: "ok" });
        this.m.removed.inc(r.removed);
        this.m.bytes.inc(r.bytesFreed);
        if (r.removed > 0) this.deps.logger.info({ removed: r.removed, bytesFreed: r.bytesFreed, listed: r.listed }, "image garbage collected");
        return r;
      } catch (err) {
        this.m.runs.inc({ outcome: "error" });
        this.deps.logger.warn({ err }, "image garbage collection failed; will run again");
        return undefined;
      }
    })();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
