/**
 * The unhappy paths end to end: a source that vanishes (source_gone), price changes and
 * conditional GETs, the periodic schedule, a translation service that answers 429 and then
 * recovers, one that never recovers, a corrupt image that goes to the dead letters with its
 * reason, sources that 404 or are too large, and a store that fails once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { metricValue, startHarness, waitFor, type PipelineHarness } from "./harness.js";
import type { SourceProductDoc } from "./standins/index.js";

let h: PipelineHarness;
let n = 0;
const doc = (over: Partial<SourceProductDoc> = {}): SourceProductDoc => ({
  title: `Product ${++n}`,
  description: "A fine product.",
  price: "10.00",
  currency: "EUR",
  images: ["green.jpg"],
  format: "json",
  ...over,
});

async function importOne(slug: string, d: SourceProductDoc): Promise<{ importId: string; url: string; productId: () => Promise<string> }> {
  const url = h.site.setProduct(slug, d);
  const res = await h.api("POST", "/v1/imports", { sourceUrl: url });
  expect(res.status).toBe(202);
  return {
    importId: res.body.importId,
    url,
    productId: () => waitFor(`product ${slug}`, async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id),
  };
}
const jobsOf = (type: "import" | "translation" | "image" | "source_check" | "push", productId?: string) =>
  h.db.prisma.job.findMany({ where: { type, ...(productId ? { payload: { path: ["productId"], equals: productId } } : {}) } });

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.site.faults.clear();
  h.translate.faults.clear();
  h.store.faults.clear();
});

describe("source checks", () => {
  it("records available (304 on a conditional GET), price_changed, then gone -> source_gone", async () => {
    const imp = await importOne("vanishing", doc({ price: "19.99" }));
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");

    const check = async () => {
      const before = await h.db.prisma.sourceCheck.count({ where: { productId: id } });
      const res = await h.api("POST", "/v1/source-checks", { productIds: [id] });
      expect(res.status).toBe(202);
      expect(res.body.enqueued).toBe(1);
      return waitFor("source check", async () => {
        const rows = await h.db.prisma.sourceCheck.findMany({ where: { productId: id }, orderBy: { id: "asc" } });
        return rows.length > before ? rows[rows.length - 1] : undefined;
      });
    };

    const first = await check();
    expect(first).toMatchObject({ outcome: "available", httpStatus: 304 });
    const lastReq = h.site.requests.filter((r) => r.path === "/p/vanishing").at(-1)!;
    expect(lastReq.headers["if-none-match"]).toBe('"vanishing-r1"');
    expect(lastReq.headers["if-modified-since"]).toBeTruthy();
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);

    h.site.setPrice("vanishing", "24.50");
    const second = await check();
    expect(second).toMatchObject({ outcome: "price_changed", httpStatus: 200 });
    expect(second.oldPrice?.toFixed(2)).toBe("19.99");
    expect(second.newPrice?.toFixed(2)).toBe("24.50");
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).price?.toFixed(2)).toBe("24.50");

    h.site.remove("vanishing", 410);
    const third = await check();
    expect(third).toMatchObject({ outcome: "gone", httpStatus: 410 });
    const p = await h.waitForStatus(id, "source_gone");
    expect(p.lastCheckOutcome).toBe("gone");
    const detail = (await h.api("GET", `/v1/products/${id}`)).body;
    expect(detail.history.at(-1)).toMatchObject({ from: "in_review", to: "source_gone", actor: "worker:source_check" });
    expect(detail.sourceChecks.map((c: { outcome: string }) => c.outcome)).toEqual(["gone", "price_changed", "available"]);

    expect(await metricValue(h.metrics, "source_checks_total", { outcome: "gone" })).toBe(1);
    expect(await metricValue(h.metrics, "source_checks_total", { outcome: "price_changed" })).toBe(1);
    expect(await metricValue(h.metrics, "source_check_duration_seconds", { outcome: "available" })).toBeGreaterThanOrEqual(1);

    // A gone product cannot be reviewed any more.
    const review = await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "alice" });
    expect(review.status).toBe(409);
  });

  it("a source answering 503 records an error outcome and leaves the product alone", async () => {
    const imp = await importOne("check-error", doc({ images: [] }));
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");
    h.site.faults.fail(503, 1);
    await h.api("POST", "/v1/source-checks", { productIds: [id] });
    const row = await waitFor("error check", async () => h.db.prisma.sourceCheck.findFirst({ where: { productId: id } }));
    expect(row).toMatchObject({ outcome: "error", httpStatus: 503, error: "source answered HTTP 503" });
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status).toBe("in_review");
    expect(await metricValue(h.metrics, "source_checks_total", { outcome: "error" })).toBe(1);
  });

  it("the schedule queues each due product once per slot", async () => {
    const imp = await importOne("scheduled", doc());
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");
    const before = await h.db.prisma.sourceCheck.count({ where: { productId: id } });
    await new Promise((r) => setTimeout(r, 20));
    const jobsBefore = await h.db.prisma.job.count({ where: { type: "source_check" } });
    const now = Date.now();
    // Two schedulers ticking in the same slot: the job ids derive from product + slot, so each
    // due product is queued once.
    const [queued, queuedTwice] = await Promise.all([
      h.platform.service.scheduleDueSourceChecks(10, 500, now),
      h.platform.service.scheduleDueSourceChecks(10, 500, now),
    ]);
    expect(queued).toBeGreaterThanOrEqual(1);
    expect(queuedTwice).toBeLessThanOrEqual(queued);
    expect(await h.db.prisma.job.count({ where: { type: "source_check" } })).toBe(jobsBefore + queued);
    await waitFor("scheduled check", async () => (await h.db.prisma.sourceCheck.count({ where: { productId: id } })) > before);
    // Let every scheduled check finish, so none of them meets a fault injected by a later test.
    const allDone = () => waitFor("all source checks done", async () => (await h.db.prisma.job.count({ where: { type: "source_check", status: { in: ["pending", "processing", "failed"] } } })) === 0);
    await allDone();
    // Checked just now: not due in this slot any more; due again one interval later.
    expect(await h.platform.service.scheduleDueSourceChecks(10, 500, now)).toBe(0);
    expect(await h.platform.service.scheduleDueSourceChecks(10, 500, Date.now() + 1000)).toBe(queued);
    await allDone();
    const gone = await h.db.prisma.product.findMany({ where: { status: "source_gone" }, select: { id: true } });
    const scheduledJobs = await jobsOf("source_check");
    // source_gone products are not checked by the schedule
    for (const g of gone) expect(scheduledJobs.filter((j) => (j.payload as { productId: string }).productId === g.id && j.requestId === null)).toHaveLength(0);
  });
});

describe("translation service failures", () => {
  it("429 on one language is retried; the language already done is not translated again", async () => {
    h.translate.faults.pass(1); // de succeeds
    h.translate.faults.fail(429, 2); // fr is rate-limited twice
    const imp = await importOne("rate-limited", doc({ title: "Rate limited" }));
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");
    const calls = h.translate.calls.filter((c) => c.q[0] === "Rate limited");
    expect(calls.map((c) => `${c.target}:${c.status}`)).toEqual(["de:200", "fr:429", "fr:429", "fr:200"]);
    const [job] = await jobsOf("translation", id);
    expect(job).toMatchObject({ status: "completed", attempts: 3 });
    expect(await metricValue(h.metrics, "translations_total", { language: "fr", outcome: "retry" })).toBe(2);
    const tr = await h.db.prisma.translation.findMany({ where: { productId: id }, orderBy: { language: "asc" } });
    expect(tr.map((t) => t.title)).toEqual(["[de] Rate limited", "[fr] Rate limited"]);
  });

  it("a service that stays down fails the product after the last attempt", async () => {
    h.translate.faults.fail(503, 1000);
    const imp = await importOne("translation-down", doc({ title: "Never translated" }));
    const id = await imp.productId();
    const p = await h.waitForStatus(id, "failed");
    expect(p.failureReason).toMatch(/translation to de failed: translation service answered 503.*gave up after 5 attempts/);
    const [job] = await waitFor("dead translation job", async () => {
      const jobs = await jobsOf("translation", id);
      return jobs[0]?.status === "dead" ? jobs : undefined;
    });
    expect(job!.attempts).toBe(5);
  });

  it("an unsupported language is permanent: no retries", async () => {
    const imp = await importOne("klingon", doc({ title: "Qapla", language: "tlh" }));
    const id = await imp.productId();
    const p = await h.waitForStatus(id, "failed");
    expect(p.failureReason).toMatch(/tlh is not supported/);
    const [job] = await waitFor("dead job", async () => ((await jobsOf("translation", id))[0]?.status === "dead" ? jobsOf("translation", id) : undefined));
    expect(job!.attempts).toBe(1);
  });
});

describe("image failures", () => {
  it("a corrupt image sends the job to the dead letters with its reason, without retries", async () => {
    const imp = await importOne("corrupt", doc({ images: ["red.jpg", "corrupt.jpg"] }));
    const id = await imp.productId();
    const p = await h.waitForStatus(id, "failed");
    expect(p.failureReason).toMatch(/image 1 \(.*corrupt\.jpg\) is corrupt/);
    const job = await waitFor("dead image job", async () => {
      const [j] = await jobsOf("image", id);
      return j?.status === "dead" ? j : undefined;
    });
    expect(job.attempts).toBe(1);
    expect(job.lastError).toMatch(/corrupt\.jpg\) is corrupt: image cannot be decoded|corrupt\.jpg\) is corrupt: not a readable image/);
    expect(await metricValue(h.metrics, "images_processed_total", { outcome: "invalid" })).toBe(1);
    // The dead job is visible through the job engine's API with its reason.
    const viaApi = await h.api("GET", `/v1/jobs/${job.id}`);
    expect(viaApi.status).toBe(200);
    expect(JSON.stringify(viaApi.body)).toContain("is corrupt");
  });

  it("a file that is not an image at all is rejected the same way", async () => {
    const imp = await importOne("html-as-jpeg", doc({ images: ["not-an-image.jpg"] }));
    const id = await imp.productId();
    const p = await h.waitForStatus(id, "failed");
    expect(p.failureReason).toMatch(/not a readable image/);
  });
});

describe("import failures", () => {
  it("a 404 source, an oversized body and a non-product page are recorded per item; other items go on", async () => {
    const good = h.site.setProduct("fine", doc({ title: "Fine" }));
    const urls = [`${h.site.url}/p/does-not-exist`, `${h.site.url}/huge/100`, `${h.site.url}/status/200`, good];
    const res = await h.api("POST", "/v1/imports", { sourceUrls: urls });
    expect(res.status).toBe(202);
    const progress = await waitFor("import settles", async () => {
      const r = await h.api("GET", `/v1/imports/${res.body.importId}`);
      return r.body.done ? r.body : undefined;
    });
    const byUrl = Object.fromEntries(progress.items.map((i: { sourceUrl: string }) => [i.sourceUrl, i]));
    expect(byUrl[urls[0]!].error).toMatch(/HTTP 404/);
    expect(byUrl[urls[1]!].error).toMatch(/limit/);
    expect(byUrl[urls[2]!].error).toMatch(/not a product document/);
    expect(byUrl[good].productStatus).toBe("in_review");
    expect(progress.byStatus).toEqual({ import_failed: 3, in_review: 1 });
  });

  it("a source that answers 503 once is retried", async () => {
    h.site.faults.fail(503, 1);
    const imp = await importOne("flaky", doc({ title: "Flaky", images: [] }));
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");
    const [job] = await jobsOf("import");
    expect(job).toBeDefined();
    const importJob = (await h.db.prisma.importItem.findFirstOrThrow({ where: { importId: imp.importId } })).jobId!;
    expect((await h.db.prisma.job.findUniqueOrThrow({ where: { id: importJob } })).attempts).toBe(2);
  });
});

describe("store failures", () => {
  it("a store 500 is retried with the same idempotency key; one store product", async () => {
    const imp = await importOne("store-flaky", doc({ title: "Store flaky", images: [] }));
    const id = await imp.productId();
    await h.waitForStatus(id, "in_review");
    await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "alice" });
    const before = h.store.requests.length;
    h.store.faults.fail(500, 1);
    await h.api("POST", `/v1/products/${id}/push`);
    const p = await h.waitForStatus(id, "pushed");
    const reqs = h.store.requests.slice(before);
    expect(reqs.map((r) => r.status)).toEqual([500, 201]);
    expect(reqs[0]!.key).toBe(reqs[1]!.key);
    expect([...h.store.products.values()].filter((x) => x.externalId === id)).toHaveLength(1);
    expect(p.storeProductId).toBeTruthy();
  });
});
