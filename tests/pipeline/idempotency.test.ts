/**
 * At-least-once delivery: every handler run twice with the same job (a redelivery after a
 * crash before the ack) has the effects of one run. Handlers are called directly, with a
 * recording queue, against the real database and stand-ins.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobContext, JobType } from "../../services/jobs/types.js";
import { silentLogger } from "../../services/logger.js";
import type { EnqueueOptions, JobQueue, PipelineJobType } from "../../services/pipeline/jobs.js";
import { defaultProviders, fetchLimits } from "../../services/platform.js";
import type { WorkerDeps } from "../../services/workers/common.js";
import { imageHandler } from "../../services/workers/image.js";
import { importHandler } from "../../services/workers/import.js";
import { pushHandler } from "../../services/workers/push.js";
import { sourceCheckHandler } from "../../services/workers/source-check.js";
import { translationHandler } from "../../services/workers/translation.js";
import { metricValue, startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
let deps: WorkerDeps;
const enqueued: { type: PipelineJobType; payload: Record<string, unknown>; opts?: EnqueueOptions }[] = [];
const queue: JobQueue = {
  enqueue: async (type, payload, opts) => {
    enqueued.push({ type, payload, opts });
    return { jobId: opts?.jobId };
  },
};
const ctx = (type: JobType, jobId: string = randomUUID()): JobContext => ({ jobId, type, attempt: 1, logger: silentLogger(), signal: new AbortController().signal });
const twice = async (fn: () => Promise<void>) => {
  await fn();
  await fn();
};

beforeAll(async () => {
  h = await startHarness();
  deps = { db: h.db, jobs: queue, metrics: h.metrics, config: h.config, fetchLimits: fetchLimits(h.config), ...defaultProviders(h.config) };
});
afterAll(async () => {
  await h?.close();
});

describe("every handler is idempotent per job", () => {
  let productId: string;

  it("import: one product, one history, the same follow-up job id", async () => {
    const url = h.site.setProduct("twice", { title: "Twice", description: "Run me twice.", price: "5.00", currency: "EUR", images: ["green.jpg", "blue.png"], format: "json" });
    const importId = randomUUID();
    const jobId = randomUUID();
    await h.db.prisma.import.create({ data: { id: importId, sourceUrls: [url], items: { create: [{ sourceUrl: url, jobId }] } } });
    const c = ctx("import", jobId);
    const before = await metricValue(h.metrics, "products_imported_total");
    await twice(() => importHandler(deps)({ importId, sourceUrl: url }, c));
    const products = await h.db.prisma.product.findMany({ where: { sourceUrl: url } });
    expect(products).toHaveLength(1);
    productId = products[0]!.id;
    expect(products[0]!.status).toBe("translating");
    const events = await h.db.prisma.productEvent.findMany({ where: { productId }, orderBy: { id: "asc" } });
    expect(events.map((e) => e.toStatus)).toEqual(["imported", "translating"]);
    const follow = enqueued.filter((e) => e.type === "translation");
    expect(follow).toHaveLength(2);
    expect(follow[0]!.opts?.jobId).toBe(follow[1]!.opts?.jobId);
    expect(await metricValue(h.metrics, "products_imported_total")).toBe(before + 1);
  });

  it("translation: each language translated once, one transition", async () => {
    const c = ctx("translation");
    await twice(() => translationHandler(deps)({ productId }, c));
    expect(h.translate.calls.filter((x) => x.q[0] === "Twice").map((x) => x.target)).toEqual(["de", "fr"]);
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id: productId } })).status).toBe("processing_images");
    const images = enqueued.filter((e) => e.type === "image");
    expect(images).toHaveLength(2); // the redelivery re-queues the same image job (a no-op at the engine)
    expect(images[0]!.opts?.jobId).toBe(images[1]!.opts?.jobId);
  });

  it("image: images stored once, one transition to in_review", async () => {
    const c = ctx("image");
    const before = await metricValue(h.metrics, "images_processed_total", { outcome: "ok" });
    await twice(() => imageHandler(deps)({ productId }, c));
    expect(await h.db.prisma.productImage.count({ where: { productId } })).toBe(2);
    expect(await metricValue(h.metrics, "images_processed_total", { outcome: "ok" })).toBe(before + 2);
    const events = await h.db.prisma.productEvent.findMany({ where: { productId, toStatus: "in_review" } });
    expect(events).toHaveLength(1);
  });

  it("push: one store product, counted once", async () => {
    await h.platform.service.review(productId, { decision: "approve", reviewer: "alice" });
    const before = await metricValue(h.metrics, "products_pushed_total");
    const c = ctx("push");
    await twice(() => pushHandler(deps)({ productId }, c));
    expect([...h.store.products.values()].filter((p) => p.externalId === productId)).toHaveLength(1);
    expect(await metricValue(h.metrics, "products_pushed_total")).toBe(before + 1);
    expect(await h.db.prisma.productEvent.count({ where: { productId, toStatus: "pushed" } })).toBe(1);
  });

  it("push: a redelivery after the push landed completes without the store, even while the store fails", async () => {
    const [pushedEvent] = await h.db.prisma.productEvent.findMany({ where: { productId, toStatus: "pushed" } });
    const pushJobId = (pushedEvent!.details as { jobId: string }).jobId;
    const requestsBefore = h.store.requests.length;
    h.store.faults.unavailableFor(60_000);
    try {
      // The job that pushed it, delivered again (its outcome was lost): done, no store call.
      await pushHandler(deps)({ productId }, ctx("push", pushJobId));
      expect(h.store.requests.length).toBe(requestsBefore);
      // Another push job (an operator's re-send) does ask the store, and the outage fails it for a retry.
      await expect(pushHandler(deps)({ productId }, ctx("push"))).rejects.toThrow(/store answered 503/);
      expect(h.store.requests.length).toBe(requestsBefore + 1);
    } finally {
      h.store.faults.clear();
    }
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id: productId } })).status).toBe("pushed");
  });

  it("push: a run whose store call fails after its twin pushed the product completes (no dead letter for work that was done)", async () => {
    // Two runs of one push job at once (a redelivery beside a run that still goes on, in another
    // worker): the first run's request is answered late, with a 503; the twin's goes through.
    const id = randomUUID();
    await h.db.prisma.product.create({ data: { id, sourceUrl: `https://shop.example/p/twin-${id}`, title: "Twin", status: "approved" } });
    const jobId = randomUUID();
    h.store.faults.fail(503, 1, undefined, 2000);
    try {
      const first = pushHandler(deps)({ productId: id }, ctx("push", jobId));
      await waitFor("the first run's request at the store", async () => h.store.faults.queued === 0);
      await pushHandler(deps)({ productId: id }, ctx("push", jobId));
      expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status).toBe("pushed");
      await expect(first).resolves.toBeUndefined();
    } finally {
      h.store.faults.clear();
    }
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status).toBe("pushed");
    expect(h.store.writesByExternalId.get(id)).toBe(1);
  });

  it("source_check: one recorded check per job", async () => {
    const c = ctx("source_check");
    await twice(() => sourceCheckHandler(deps)({ productId }, c));
    expect(await h.db.prisma.sourceCheck.count({ where: { productId } })).toBe(1);
    // A different job is a different check.
    await sourceCheckHandler(deps)({ productId }, ctx("source_check"));
    expect(await h.db.prisma.sourceCheck.count({ where: { productId } })).toBe(2);
  });

  it("a payload that fails validation is permanent", async () => {
    await expect(translationHandler(deps)({ productId: "nope" }, ctx("translation"))).rejects.toMatchObject({ name: "PermanentJobError" });
    await expect(pushHandler(deps)({ productId: randomUUID() }, ctx("push"))).rejects.toMatchObject({ name: "PermanentJobError" });
  });
});
