/**
 * The store's Idempotency-Key includes the product's version: a product changed after its
 * first push and pushed again reaches the store (an update of the same store product), while
 * pushing an unchanged product again is a replay that writes nothing. Counted by the store
 * stand-in, which tells replays from real writes (also over HTTP, GET /stats).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentVersion, storeIdempotencyKey } from "../../services/workers/push.js";
import { startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const pushAndWait = async (id: string) => {
  const res = await h.api("POST", `/v1/products/${id}/push`);
  expect(res.status).toBe(202);
  await waitFor(`push job ${res.body.jobId}`, async () => {
    const job = await h.db.prisma.job.findUnique({ where: { id: res.body.jobId } });
    if (job?.status === "dead") throw new Error(`push job died: ${job.lastError}`);
    return job?.status === "completed";
  });
};
const storeStats = async () => (await (await fetch(`${h.store.url}/stats`, { headers: { authorization: "Bearer store-token" } })).json()) as Record<string, number>;

describe("pushing a product again", () => {
  it("unchanged: a replay with the same key; changed (new price): a new key and the store gets the change", async () => {
    const url = h.site.setProduct("versioned", { title: "Versioned", description: "Pushed twice.", price: "10.00", currency: "EUR", images: [], format: "json" });
    expect((await h.api("POST", "/v1/imports", { sourceUrl: url })).status).toBe(202);
    const id = await waitFor("product", async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
    await h.waitForStatus(id, "in_review");
    expect((await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "vera" })).status).toBe(200);
    const approved = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });

    await pushAndWait(id);
    const pushed = await h.waitForStatus(id, "pushed");
    expect(pushed.pushedVersion).toBe(approved.version);
    expect(h.store.stats).toMatchObject({ creates: 1, updates: 0, replays: 0 });
    const firstKey = h.store.requests.at(-1)!.key;
    expect(firstKey).toBe(storeIdempotencyKey(id, approved.version));

    // The same version again: the store replays, nothing is written.
    await pushAndWait(id);
    expect(h.store.stats).toMatchObject({ creates: 1, updates: 0, replays: 1 });
    expect(h.store.requests.at(-1)).toMatchObject({ key: firstKey, replayed: true });

    // The source's price changes; the source check records it (a new version of the product).
    h.site.setPrice("versioned", "12.50");
    expect((await h.api("POST", "/v1/source-checks", { productIds: [id] })).status).toBe(202);
    const changed = await waitFor("price change", async () => {
      const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
      return p.price?.toFixed(2) === "12.50" ? p : undefined;
    });
    expect(changed.status).toBe("pushed");
    expect(changed.version).toBe(pushed.version + 1);
    expect(contentVersion(changed)).toBe(changed.version);

    await pushAndWait(id);
    const secondKey = h.store.requests.at(-1)!.key;
    expect(secondKey).toBe(storeIdempotencyKey(id, changed.version));
    expect(secondKey).not.toBe(firstKey);
    expect(h.store.stats).toMatchObject({ creates: 1, updates: 1, replays: 1, keyReuses: 0 });
    // One store product, now with the new price, under the id recorded at the first push.
    const mine = [...h.store.products.entries()].filter(([, p]) => p.externalId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]![0]).toBe(pushed.storeProductId);
    expect(mine[0]![1]).toMatchObject({ price: "12.50" });
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).storeProductId).toBe(pushed.storeProductId);

    // And again unchanged: a replay of the second key.
    await pushAndWait(id);
    expect(h.store.requests.at(-1)).toMatchObject({ key: secondKey, replayed: true });
    expect(await storeStats()).toMatchObject({ creates: 1, updates: 1, writes: 2, replays: 2 });
    expect(await h.db.prisma.productEvent.count({ where: { productId: id, toStatus: "pushed" } })).toBe(1);
  });
});
