/**
 * The happy paths end to end, through the real API, Postgres, RabbitMQ and the stand-ins:
 * a batch import (JSON, JSON-LD and Open Graph pages) flows to in_review with translations
 * and processed images; approve + push; reject; a second push is a no-op at the store; an
 * illegal transition is a 409; auto-push on approval.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
const productIdFor = async (sourceUrl: string) =>
  waitFor(`product for ${sourceUrl}`, async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl } }))?.id);

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("pipeline happy paths", () => {
  let urls: string[];
  let ids: string[];

  it("imports a batch and every product reaches in_review with translations and images", async () => {
    urls = [
      h.site.setProduct("kettle", { title: "Electric kettle", description: "Boils water fast.", price: "29.90", currency: "EUR", images: ["red.jpg", "blue.png"], format: "json" }),
      h.site.setProduct("lamp", { title: "Desk lamp", description: "Warm light & dimmable.", price: "45.00", currency: "EUR", images: ["green.jpg"], format: "json-ld" }),
      h.site.setProduct("mug", { title: "Coffee mug", description: "Holds 300 ml.", price: "9.50", currency: "USD", images: ["blue.png"], format: "open-graph" }),
    ];
    const res = await h.api("POST", "/v1/imports", { sourceUrls: urls }, { "x-request-id": "req-batch-1" });
    expect(res.status).toBe(202);
    expect(res.body.importId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("location")).toBe(`/v1/imports/${res.body.importId}`);

    ids = await Promise.all(urls.map(productIdFor));
    for (const id of ids) await h.waitForStatus(id, "in_review");

    const progress = await h.api("GET", `/v1/imports/${res.body.importId}`);
    expect(progress.status).toBe(200);
    expect(progress.body.total).toBe(3);
    expect(progress.body.byStatus).toEqual({ in_review: 3 });
    expect(progress.body.done).toBe(true);

    const detail = await h.api("GET", `/v1/products/${ids[0]}`);
    expect(detail.status).toBe(200);
    const p = detail.body;
    expect(p).toMatchObject({ title: "Electric kettle", price: "29.90", currency: "EUR", status: "in_review" });
    expect(p.translations.map((t: { language: string; title: string }) => [t.language, t.title])).toEqual([
      ["de", "[de] Electric kettle"],
      ["fr", "[fr] Electric kettle"],
    ]);
    expect(p.images).toHaveLength(2);
    expect(p.images[0]).toMatchObject({ position: 0, width: 1200, height: 800, format: "jpeg" });
    expect(p.images[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    const variants = p.images[0].variants as { name: string; width: number; format: string; location: string }[];
    expect(variants.map((v) => [v.name, v.width, v.format])).toEqual([
      ["thumb", 200, "jpeg"],
      ["medium", 800, "jpeg"],
      ["webp", 1200, "webp"],
    ]);
    for (const v of variants) expect(existsSync(new URL(v.location).pathname)).toBe(true);
    expect(p.history.map((e: { to: string }) => e.to)).toEqual(["imported", "translating", "processing_images", "in_review"]);

    // The JSON-LD page and the Open Graph page were parsed as such.
    const lamp = (await h.api("GET", `/v1/products/${ids[1]}`)).body;
    expect(lamp).toMatchObject({ title: "Desk lamp", description: "Warm light & dimmable.", price: "45.00" });
    expect(lamp.images[0]).toMatchObject({ width: 300, height: 200 });
    const mug = (await h.api("GET", `/v1/products/${ids[2]}`)).body;
    expect(mug).toMatchObject({ title: "Coffee mug", price: "9.50", currency: "USD" });

    // The request id reached the jobs the request started.
    const importJobs = await h.db.prisma.job.findMany({ where: { type: "import" } });
    expect(importJobs.map((j) => j.requestId)).toEqual(["req-batch-1", "req-batch-1", "req-batch-1"]);
    const translationJobs = await h.db.prisma.job.findMany({ where: { type: "translation" } });
    expect(translationJobs.every((j) => j.requestId === "req-batch-1")).toBe(true);

    expect(await metricValue(h.metrics, "products_imported_total")).toBe(3);
    // Exactly one translation per product and language, one run of each step. (The metrics count
    // provider calls, which a duplicate delivery may repeat: at least, not exactly.)
    expect(await h.db.prisma.translation.count()).toBe(6);
    expect(await h.db.prisma.productImage.count()).toBe(4);
    expect(await h.db.prisma.productEvent.count({ where: { toStatus: "processing_images" } })).toBe(3);
    expect(await metricValue(h.metrics, "translations_total", { outcome: "ok" })).toBeGreaterThanOrEqual(6);
    expect(await metricValue(h.metrics, "images_processed_total", { outcome: "ok" })).toBeGreaterThanOrEqual(4);
    expect(await h.scrape()).toContain('products_by_status{status="in_review"} 3');
  });

  it("lists products with status/source filters and cursor pagination", async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await h.api("GET", `/v1/products?status=in_review&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      all.push(...page.body.items.map((p: { id: string }) => p.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all.sort()).toEqual([...ids].sort());
    const host = new URL(h.site.url).host;
    expect((await h.api("GET", `/v1/products?source=${host}`)).body.items).toHaveLength(3);
    expect((await h.api("GET", `/v1/products?source=other.example:1`)).body.items).toHaveLength(0);
    expect((await h.api("GET", `/v1/products?status=pushed,approved`)).body.items).toHaveLength(0);
  });

  it("approves and pushes; a second push is a no-op at the store", async () => {
    const id = ids[0]!;
    const before = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    const review = await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "alice", notes: "looks good", version: before.version });
    expect(review.status).toBe(200);
    expect(review.body.product.status).toBe("approved");
    expect(await metricValue(h.metrics, "review_actions_total", { reviewer: "alice", decision: "approve" })).toBe(1);
    expect(await metricValue(h.metrics, "product_review_duration_seconds", { decision: "approve" })).toBe(1);

    const push = await h.api("POST", `/v1/products/${id}/push`);
    expect(push.status).toBe(202);
    const pushed = await h.waitForStatus(id, "pushed");
    expect(pushed.storeProductId).toMatch(/^sp_/);
    expect(h.store.products.size).toBe(1);
    const stored = h.store.products.get(pushed.storeProductId!)!;
    expect(stored).toMatchObject({ externalId: id, title: "Electric kettle", price: "29.90" });
    expect(await metricValue(h.metrics, "products_pushed_total")).toBe(1);

    const again = await h.api("POST", `/v1/products/${id}/push`);
    expect(again.status).toBe(202);
    await waitFor("the second push job", async () => (await h.db.prisma.job.findUnique({ where: { id: again.body.jobId } }))?.status === "completed");
    expect(h.store.requests.map((r) => r.status)).toEqual([201, 201]); // the replay answers with the stored 201
    expect(new Set(h.store.requests.map((r) => r.key)).size).toBe(1);
    expect(h.store.products.size).toBe(1);
    expect(await metricValue(h.metrics, "products_pushed_total")).toBe(1);
    const after = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(after.storeProductId).toBe(pushed.storeProductId);
    const events = await h.db.prisma.productEvent.findMany({ where: { productId: id, toStatus: "pushed" } });
    expect(events).toHaveLength(1);
  });

  it("rejects; pushing or reviewing a rejected product is a 409", async () => {
    const id = ids[1]!;
    const review = await h.api("POST", `/v1/products/${id}/review`, { decision: "reject", reviewer: "bob", notes: "blurry photos" });
    expect(review.status).toBe(200);
    expect(review.body.product).toMatchObject({ status: "rejected", reviewer: "bob", reviewNotes: "blurry photos" });

    const push = await h.api("POST", `/v1/products/${id}/push`);
    expect(push.status).toBe(409);
    expect(push.headers.get("content-type")).toContain("application/problem+json");
    expect(push.body).toMatchObject({ status: 409, code: "illegal_transition", from: "rejected", to: "pushed" });

    const again = await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "bob" });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("illegal_transition");
    const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(p.status).toBe("rejected");
    expect(h.store.products.size).toBe(1);
  });

  it("re-importing a rejected product restarts the pipeline with the new content", async () => {
    const id = ids[1]!;
    h.site.setProduct("lamp", { title: "Desk lamp v2", description: "Now with USB-C.", price: "49.00", currency: "EUR", images: ["red.jpg"], format: "json-ld" });
    const res = await h.api("POST", "/v1/imports", { sourceUrl: urls[1] });
    expect(res.status).toBe(202);
    await waitFor("re-import starts", async () => (await h.db.prisma.productEvent.count({ where: { productId: id, fromStatus: "rejected", toStatus: "translating" } })) === 1);
    await h.waitForStatus(id, "in_review");
    const p = (await h.api("GET", `/v1/products/${id}`)).body;
    expect(p).toMatchObject({ title: "Desk lamp v2", price: "49.00" });
    expect(p.translations.map((t: { title: string }) => t.title)).toEqual(["[de] Desk lamp v2", "[fr] Desk lamp v2"]);
    expect(p.images).toHaveLength(1);
    expect(p.images[0]).toMatchObject({ width: 1200, height: 800 });
    expect(p.history.map((e: { to: string }) => e.to).slice(-5)).toEqual(["in_review", "rejected", "translating", "processing_images", "in_review"]);
    expect(await h.db.prisma.product.count({ where: { sourceUrl: urls[1] } })).toBe(1);
  });

  it("a stale version is a 409, never a silent overwrite", async () => {
    const id = ids[2]!;
    const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    const stale = await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "carol", version: p.version - 1 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "version_conflict", currentVersion: p.version });
    // Two reviewers at once: exactly one wins.
    const [a, b] = await Promise.all([
      h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "carol" }),
      h.api("POST", `/v1/products/${id}/review`, { decision: "reject", reviewer: "dave" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const events = await h.db.prisma.productEvent.findMany({ where: { productId: id, fromStatus: "in_review" } });
    expect(events).toHaveLength(1);
  });
});

describe("auto push on approval", () => {
  let h2: PipelineHarness;
  beforeAll(async () => {
    h2 = await startHarness({ AUTO_PUSH_ON_APPROVE: "true", TARGET_LANGUAGES: "de" });
  });
  afterAll(async () => {
    await h2?.close();
  });

  it("pushes an approved product without a push request", async () => {
    const url = h2.site.setProduct("chair", { title: "Chair", description: "", price: "120", currency: "EUR", images: [], format: "json" });
    await h2.api("POST", "/v1/imports", { sourceUrl: url });
    const id = await waitFor("product", async () => (await h2.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
    await h2.waitForStatus(id, "in_review");
    const review = await h2.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "erin" });
    expect(review.body.pushJobId).toBeTruthy();
    const p = await h2.waitForStatus(id, "pushed");
    expect(h2.store.products.get(p.storeProductId!)).toMatchObject({ title: "Chair", price: "120.00" });
  });
});
