/**
 * The S3 driver's put, list (ListObjectsV2 paged by StartAfter) and delete (DeleteObjects),
 * through the real AWS SDK against the S3 protocol stand-in (tests/pipeline/standins/s3.ts),
 * and the image garbage collector over it with a real Postgres. The stand-in follows the S3 API
 * reference; no real S3-compatible server runs on this machine, so bucket semantics beyond the
 * documented protocol are not proven here.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { collectImageGarbage, imageObjectKey, IMAGE_PREFIX } from "../../services/pipeline/image-gc.js";
import { S3Storage } from "../../services/pipeline/storage.js";
import { openTestDatabase } from "../helpers/db.js";
import { S3Standin } from "./standins/s3.js";

let s3: S3Standin;
let storage: S3Storage;
let t: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  // The SDK signs every request; the stand-in only checks that it did.
  process.env.AWS_ACCESS_KEY_ID = "test-access-key";
  process.env.AWS_SECRET_ACCESS_KEY = "test-secret-key";
  s3 = await S3Standin.start(["images"]);
  storage = new S3Storage({ bucket: "images", region: "eu-central-1", endpoint: s3.url, forcePathStyle: true, prefix: "pipeline/" });
  t = await openTestDatabase();
});
afterAll(async () => {
  await s3?.close();
  await t?.close();
});

describe("S3Storage", () => {
  it("puts under its prefix, lists in pages after a key, and deletes in one request", async () => {
    const keys: string[] = [];
    for (const name of ["c", "a", "e", "b", "d"]) keys.push((await storage.put(`products/x/${name}.jpg`, Buffer.from(name.repeat(10)), "image/jpeg")).key);
    await storage.put("elsewhere/z.jpg", Buffer.from("z"), "image/jpeg");
    expect(keys[0]).toBe("pipeline/products/x/c.jpg");
    expect(s3.buckets.get("images")!.get("pipeline/products/x/c.jpg")!.body.toString()).toBe("cccccccccc");

    const seen: string[] = [];
    let page = await storage.list({ prefix: "products/", limit: 2 });
    const pages = [page.objects.length];
    seen.push(...page.objects.map((o) => o.key));
    while (page.next) {
      page = await storage.list({ prefix: "products/", limit: 2, startAfter: page.next });
      pages.push(page.objects.length);
      seen.push(...page.objects.map((o) => o.key));
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual(["a", "b", "c", "d", "e"].map((n) => `pipeline/products/x/${n}.jpg`));
    const first = (await storage.list({ prefix: "products/", limit: 1 })).objects[0]!;
    expect(first).toMatchObject({ key: "pipeline/products/x/a.jpg", bytes: 10 });
    expect(first.lastModified).toBeInstanceOf(Date);

    const deleteCalls = s3.requests.filter((r) => r.method === "POST").length;
    expect(await storage.delete(["pipeline/products/x/a.jpg", "pipeline/products/x/b.jpg"])).toEqual(["pipeline/products/x/a.jpg", "pipeline/products/x/b.jpg"]);
    expect(s3.requests.filter((r) => r.method === "POST").length).toBe(deleteCalls + 1);
    expect([...s3.buckets.get("images")!.keys()].sort()).toEqual(["pipeline/elsewhere/z.jpg", "pipeline/products/x/c.jpg", "pipeline/products/x/d.jpg", "pipeline/products/x/e.jpg"]);
  });

  it("the image garbage collector removes unreferenced old objects from the bucket and keeps the rest", async () => {
    const storage = new S3Storage({ bucket: "images", region: "eu-central-1", endpoint: s3.url, forcePathStyle: true, prefix: "gc/" });
    const productId = randomUUID();
    const goneProduct = randomUUID();
    const put = async (pid: string, variant: string) => (await storage.put(imageObjectKey(pid, "ab".repeat(32), randomUUID(), variant, "jpg"), Buffer.alloc(50), "image/jpeg")).key;
    const referenced = [await put(productId, "thumb"), await put(productId, "medium")];
    const replaced = await put(productId, "thumb");
    const ofDeleted = await put(goneProduct, "thumb");
    await t.db.prisma.product.create({ data: { id: productId, sourceUrl: `https://shop.example/p/${productId}`, title: "In S3" } });
    await t.db.prisma.productImage.create({
      data: { id: randomUUID(), productId, position: 0, sourceUrl: "https://shop.example/i.jpg", variants: referenced.map((key, i) => ({ name: i ? "medium" : "thumb", key })) },
    });
    for (const key of [...referenced, replaced, ofDeleted]) s3.age("images", key, 2 * 3_600_000);
    const young = await put(goneProduct, "webp"); // just written: within the grace

    const r = await collectImageGarbage({ db: t.db, storage, metrics: new MetricsRegistry() }, { graceMs: 3_600_000, maxDeletes: 100 }, new Date());
    expect(r).toMatchObject({ removed: 2, bytesFreed: 100, keptReferenced: 2, keptYoung: 1 });
    const left = [...s3.buckets.get("images")!.keys()].filter((k) => k.startsWith(`gc/${IMAGE_PREFIX}`));
    expect(left.sort()).toEqual([...referenced, young].sort());
    expect((await collectImageGarbage({ db: t.db, storage, metrics: new MetricsRegistry() }, { graceMs: 3_600_000, maxDeletes: 100 }, new Date())).removed).toBe(0);
  });
});
