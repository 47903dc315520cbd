/**
 * The image garbage collector against the real pipeline and the local storage driver: images
 * replaced by a re-import and images of a deleted product are removed, the ones products still
 * name stay, objects younger than the grace (an image job about to record them) and keys
 * outside the layout stay, a second run removes nothing, and a bounded run resumes where it
 * stopped. The S3 driver under the collector: tests/pipeline/s3-storage.test.ts.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectImageGarbage, IMAGE_PREFIX } from "../../services/pipeline/image-gc.js";
import { LocalStorage } from "../../services/pipeline/storage.js";
import { metricValue, startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
let storage: LocalStorage;

beforeAll(async () => {
  h = await startHarness();
  storage = new LocalStorage(h.storageDir);
});
afterAll(async () => {
  await h?.close();
});

/** Every stored object key (relative to the storage directory). */
async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (let page = await storage.list({ prefix: "", limit: 100 }); ; page = await storage.list({ prefix: "", limit: 100, startAfter: page.next })) {
    keys.push(...page.objects.map((o) => o.key));
    if (!page.next) return keys.sort();
  }
}
/** The keys the product's image rows name. */
async function referenced(productId: string): Promise<string[]> {
  const images = await h.db.prisma.productImage.findMany({ where: { productId } });
  return images.flatMap((i) => (i.variants as { key: string }[]).map((v) => v.key)).sort();
}
/** Makes every object stored so far look `ms` old. */
async function age(ms: number): Promise<void> {
  const t = new Date(Date.now() - ms);
  for (const key of await allKeys()) await utimes(join(h.storageDir, key), t, t);
}
async function importAndReview(slug: string, images: string[]): Promise<string> {
  const url = h.site.setProduct(slug, { title: slug, description: "", price: "1.00", currency: "EUR", images, format: "json" });
  expect((await h.api("POST", "/v1/imports", { sourceUrl: url })).status).toBe(202);
  const id = await waitFor("product", async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
  await waitFor(`${slug} in review with its images`, async () => {
    const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    if (p.status === "failed") throw new Error(`${slug} failed: ${p.failureReason}`);
    return p.status === "in_review" && (await h.db.prisma.productImage.count({ where: { productId: id } })) === images.length;
  });
  return id;
}

describe("image garbage collection", () => {
  it("removes the objects of replaced images and of a deleted product, keeps referenced, young and unknown objects; a second run removes nothing", async () => {
    const kept = await importAndReview("gc-kept", ["red.jpg", "blue.png"]);
    const gone = await importAndReview("gc-deleted", ["green.jpg"]);
    const keptBefore = await referenced(kept);
    const goneKeys = await referenced(gone);
    expect(keptBefore).toHaveLength(6); // 2 images x 3 variants
    expect(goneKeys).toHaveLength(3);

    // Re-import with other images: position 0 becomes green (new objects), position 1 (blue) goes.
    const url = h.site.setProduct("gc-kept", { title: "gc-kept v2", description: "", price: "1.00", currency: "EUR", images: ["green.jpg"], format: "json" });
    expect((await h.api("POST", "/v1/imports", { sourceUrl: url })).status).toBe(202);
    await waitFor("re-imported images", async () => {
      const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id: kept } });
      const keys = await referenced(kept);
      return p.status === "in_review" && keys.length === 3 && keys.every((k) => !keptBefore.includes(k));
    });
    const keptAfter = await referenced(kept);
    // A product deleted: its image rows go with it (cascade); its objects stay until collected.
    await h.db.prisma.product.delete({ where: { id: gone } });

    // A key outside the layout, as old as the rest: never removed.
    const stranger = (await storage.put(`${IMAGE_PREFIX}not-a-product/readme.txt`, Buffer.from("hi"), "text/plain")).key;
    await age(2 * 3_600_000); // everything so far is older than the default grace (1 h)
    // An image job writing right now: stored, not yet recorded.
    const young = (await storage.put(`${IMAGE_PREFIX}${randomUUID()}/0123456789abcdef/${randomUUID()}/thumb.jpg`, Buffer.alloc(10), "image/jpeg")).key;
    const before = await allKeys();
    const garbage = before.filter((k) => [...keptBefore, ...goneKeys].includes(k));
    expect(garbage).toHaveLength(9);
    const garbageBytes = (await storage.list({ prefix: IMAGE_PREFIX, limit: 1000 })).objects.filter((o) => garbage.includes(o.key)).reduce((s, o) => s + o.bytes, 0);

    const first = await h.platform.imageGc.runOnce();
    expect(first).toMatchObject({ removed: 9, bytesFreed: garbageBytes, keptReferenced: 3, keptYoung: 1, keptUnknown: 1, cursor: undefined });
    const after = await allKeys();
    expect(after).toEqual([...keptAfter, young, stranger].sort());
    for (const key of garbage) expect(existsSync(join(h.storageDir, key)), key).toBe(false);
    // The deleted product's directory is gone, not left empty.
    expect(await readdir(join(h.storageDir, IMAGE_PREFIX))).not.toContain(gone);
    // What the API shows for the kept product is still there.
    const detail = (await h.api("GET", `/v1/products/${kept}`)).body;
    for (const v of detail.images[0].variants as { location: string }[]) expect(existsSync(new URL(v.location).pathname)).toBe(true);

    const second = await h.platform.imageGc.runOnce();
    expect(second).toMatchObject({ removed: 0, bytesFreed: 0 });
    expect(await allKeys()).toEqual(after);
    expect(await metricValue(h.metrics, "image_gc_objects_removed_total")).toBe(9);
    expect(await metricValue(h.metrics, "image_gc_bytes_freed_total")).toBe(garbageBytes);
    expect(await metricValue(h.metrics, "image_gc_runs_total", { outcome: "ok" })).toBe(2);
    expect(await metricValue(h.metrics, "image_gc_runs_total", { outcome: "error" })).toBe(0);
    const scrape = await h.scrape();
    expect(scrape).toContain("image_gc_objects_removed_total 9");
  });

  it("a run is bounded and the next one resumes where it stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "image-gc-"));
    const own = new LocalStorage(dir);
    const orphan = randomUUID(); // no such product: all of its objects are garbage
    const old = new Date(Date.now() - 2 * 3_600_000);
    for (let i = 0; i < 5; i++) {
      const { key } = await own.put(`${IMAGE_PREFIX}${orphan}/${"f".repeat(16)}/${randomUUID()}/v${i}.jpg`, Buffer.alloc(100 + i), "image/jpeg");
      await utimes(join(dir, key), old, old);
    }
    const deps = { db: h.db, storage: own, metrics: h.metrics };
    const opts = { graceMs: 3_600_000, maxDeletes: 2, pageSize: 2 };
    const removedPerRun: number[] = [];
    let cursor: string | undefined;
    for (let run = 0; run < 6; run++) {
      const r = await collectImageGarbage(deps, opts, new Date(), cursor);
      removedPerRun.push(r.removed);
      cursor = r.cursor;
    }
    expect(removedPerRun.slice(0, 3)).toEqual([2, 2, 1]);
    expect(removedPerRun.reduce((a, b) => a + b, 0)).toBe(5);
    expect((await own.list({ prefix: "", limit: 100 })).objects).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
