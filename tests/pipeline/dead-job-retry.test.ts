/**
 * Retrying a dead job finishes the work it stands for, per job type, through the real API,
 * Postgres, RabbitMQ and the stand-ins: the upstream (source site, translation service, image
 * host, store) fails or is unreachable until the job is dead, then comes back; after
 * POST /v1/admin/dead-jobs/retry the product reaches the state it would have reached without
 * the outage. A job whose product moved on is skipped with the reason; a discard leaves the
 * product failed and says so in its history.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Job } from "../../services/db/generated/client.js";
import { TcpProxy } from "../jobs/tcp-proxy.js";
import { startHarness, waitFor, type ApiResponse, type PipelineHarness } from "./harness.js";
import type { SourceProductDoc } from "./standins/index.js";

let h: PipelineHarness;
const ADMIN = { authorization: "Bearer dev-admin-token" };
type JobType = "import" | "translation" | "image" | "source_check" | "push";

const doc = (title: string, over: Partial<SourceProductDoc> = {}): SourceProductDoc => ({
  title,
  description: `${title}, described.`,
  price: "12.00",
  currency: "EUR",
  images: ["green.jpg"],
  format: "json",
  ...over,
});

async function importOne(slug: string, d: SourceProductDoc): Promise<{ importId: string; url: string }> {
  const url = h.site.setProduct(slug, d);
  const res = await h.api("POST", "/v1/imports", { sourceUrl: url });
  expect(res.status).toBe(202);
  return { importId: res.body.importId, url };
}
const productFor = (url: string) => waitFor(`product for ${url}`, async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
const deadJob = (type: JobType, where: (j: Job) => boolean) =>
  waitFor(`a dead ${type} job`, async () => (await h.db.prisma.job.findMany({ where: { type, status: "dead" } })).find(where), 30_000);
const forProduct = (id: string) => (j: Job) => (j.payload as { productId?: string }).productId === id;
const retry = (body: unknown): Promise<ApiResponse> => h.api("POST", "/v1/admin/dead-jobs/retry", body, ADMIN);
const history = async (id: string) => (await h.api("GET", `/v1/products/${id}`)).body.history as { from: string; to: string; actor: string; details: Record<string, unknown> }[];
const jobDone = (id: string) => waitFor(`job ${id} completed`, async () => (await h.db.prisma.job.findUnique({ where: { id } }))?.status === "completed");

beforeAll(async () => {
  // A source check dies only when its attempt times out (a failed fetch is an `error` outcome,
  // not a failure): give it a short handler timeout, below the fetch timeout.
  h = await startHarness({}, { engineConfig: { timeouts: { source_check: 300 } } });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.site.faults.clear();
  h.translate.faults.clear();
  h.store.faults.clear();
});

describe("retrying a dead job puts the product back into its stage", () => {
  it("translation: the provider is down until the job dies; after the retry the product reaches in_review", async () => {
    h.translate.faults.fail(503, 1000);
    const { url } = await importOne("retry-translation", doc("Retry translation"));
    const id = await productFor(url);
    const failed = await h.waitForStatus(id, "failed");
    const job = await deadJob("translation", forProduct(id));
    // The failure names its stage and job, written with the failed status itself.
    expect(failed).toMatchObject({ failedStage: "translation", failedJobId: job.id });
    expect((await history(id)).at(-1)).toMatchObject({ to: "failed", actor: "worker:translation", details: { stage: "translation", jobId: job.id } });

    h.translate.faults.clear();
    const r = await retry({ ids: [job.id], actor: "alice" });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ retried: 1, published: 1, ids: [job.id], skipped: [] });
    const p = await h.waitForStatus(id, "in_review");
    expect(p).toMatchObject({ failureReason: null, failedStage: null, failedJobId: null });
    expect(await h.db.prisma.translation.count({ where: { productId: id } })).toBe(2);
    expect(await h.db.prisma.productImage.count({ where: { productId: id } })).toBe(1);
    const events = await history(id);
    expect(events.map((e) => e.to).slice(-4)).toEqual(["failed", "translating", "processing_images", "in_review"]);
    expect(events.at(-3)).toMatchObject({ from: "failed", to: "translating", actor: "admin:alice", details: { action: "dead-job-retried", jobId: job.id, by: "alice" } });
    await jobDone(job.id);
    const row = await h.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect((row.history as { event?: string; by?: string }[]).find((e) => e.event === "retried-from-dead")).toMatchObject({ by: "alice" });
  });

  it("image: the image host is unreachable until the job dies; after the retry the images are processed and the product is in review", async () => {
    const imageHost = new TcpProxy("127.0.0.1", Number(new URL(h.site.url).port));
    await imageHost.listen();
    const port = imageHost.port;
    try {
      await imageHost.close(); // connection refused from now on
      const { url } = await importOne("retry-image", doc("Retry image", { images: [`http://127.0.0.1:${port}/img/red.jpg`] }));
      const id = await productFor(url);
      const failed = await h.waitForStatus(id, "failed");
      const job = await deadJob("image", forProduct(id));
      expect(failed).toMatchObject({ failedStage: "image", failedJobId: job.id });
      expect(failed.failureReason).toMatch(/ECONNREFUSED|fetch failed/);

      await imageHost.listen(port);
      const r = await retry({ ids: [job.id] });
      expect(r.body).toMatchObject({ retried: 1, ids: [job.id], skipped: [] });
      await h.waitForStatus(id, "in_review");
      const images = await h.db.prisma.productImage.findMany({ where: { productId: id } });
      expect(images).toHaveLength(1);
      expect(images[0]).toMatchObject({ width: 1200, height: 800 });
      // No name given: the actor is "admin".
      expect((await history(id)).find((e) => e.from === "failed")).toMatchObject({ to: "processing_images", actor: "admin", details: { by: "admin" } });
    } finally {
      await imageHost.close();
    }
  });

  it("push: the store fails until the job dies; after the retry the product is pushed, once", async () => {
    const { url } = await importOne("retry-push", doc("Retry push", { images: [] }));
    const id = await productFor(url);
    await h.waitForStatus(id, "in_review");
    expect((await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "rita" })).status).toBe(200);
    h.store.faults.fail(503, 1000);
    const push = await h.api("POST", `/v1/products/${id}/push`);
    expect(push.status).toBe(202);
    const failed = await h.waitForStatus(id, "failed");
    expect(failed).toMatchObject({ failedStage: "push", failedJobId: push.body.jobId });
    await deadJob("push", (j) => j.id === push.body.jobId);
    // A failed product is not reviewable: failed -> approved is the push retry's edge alone.
    const review = await h.api("POST", `/v1/products/${id}/review`, { decision: "approve", reviewer: "rita" });
    expect(review.status).toBe(409);
    expect(review.body.code).toBe("illegal_transition");

    h.store.faults.clear();
    const r = await retry({ filter: { type: "push" }, actor: "ops@example.com" });
    expect(r.body).toMatchObject({ retried: 1, ids: [push.body.jobId], skipped: [] });
    const p = await h.waitForStatus(id, "pushed");
    expect([...h.store.products.values()].filter((x) => x.externalId === id)).toHaveLength(1);
    expect(p.storeProductId).toBeTruthy();
    expect((await history(id)).map((e) => `${e.from}->${e.to} ${e.actor}`).slice(-3)).toEqual([
      "approved->failed worker:push",
      "failed->approved admin:ops@example.com",
      "approved->pushed worker:push",
    ]);
  });

  it("import: the source site fails until the job dies; after the retry the product is imported and reaches in_review", async () => {
    h.site.faults.fail(503, 1000);
    const { importId, url } = await importOne("retry-import", doc("Retry import"));
    const job = await deadJob("import", (j) => (j.payload as { importId?: string }).importId === importId);
    expect(await h.db.prisma.product.findUnique({ where: { sourceUrl: url } })).toBeNull();
    expect((await h.api("GET", `/v1/imports/${importId}`)).body.byStatus).toEqual({ import_failed: 1 });

    h.site.faults.clear();
    const r = await retry({ ids: [job.id], actor: "alice" });
    expect(r.body).toMatchObject({ retried: 1, skipped: [] });
    const id = await productFor(url);
    await h.waitForStatus(id, "in_review");
    const progress = (await h.api("GET", `/v1/imports/${importId}`)).body;
    expect(progress).toMatchObject({ done: true, byStatus: { in_review: 1 } });
    expect(progress.items[0].error).toBeNull();
  });

  it("source_check: the source hangs until the check dies; after the retry the product is checked", async () => {
    const { url } = await importOne("retry-check", doc("Retry check", { images: [] }));
    const id = await productFor(url);
    await h.waitForStatus(id, "in_review");
    h.site.faults.slow(2000, 1000);
    expect((await h.api("POST", "/v1/source-checks", { productIds: [id] })).status).toBe(202);
    const job = await deadJob("source_check", forProduct(id));
    expect(job.lastError).toMatch(/timed out/);
    expect(await h.db.prisma.sourceCheck.count({ where: { productId: id } })).toBe(0);

    h.site.faults.clear();
    const r = await retry({ ids: [job.id], actor: "carl" });
    expect(r.body).toMatchObject({ retried: 1, skipped: [] });
    const check = await waitFor("the source check", async () => h.db.prisma.sourceCheck.findFirst({ where: { productId: id } }));
    expect(check).toMatchObject({ outcome: "available", jobId: job.id });
    const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(p).toMatchObject({ status: "in_review", lastCheckOutcome: "available" });
    expect((await history(id)).at(-1)).toMatchObject({ from: "in_review", to: "in_review", actor: "admin:carl", details: { action: "dead-job-retried", jobType: "source_check" } });
  });
});

describe("a job whose product moved on is skipped", () => {
  it("a re-imported product: the old translation job changes nothing and the answer says why", async () => {
    h.translate.faults.fail(503, 1000);
    const { url } = await importOne("moved-on", doc("Moved on", { images: [] }));
    const id = await productFor(url);
    await h.waitForStatus(id, "failed");
    const job = await deadJob("translation", forProduct(id));
    h.translate.faults.clear();
    // Re-imported meanwhile (a failed product is re-importable): the new run gets it to in_review.
    expect((await h.api("POST", "/v1/imports", { sourceUrl: url })).status).toBe(202);
    await waitFor("re-import started", async () => (await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status !== "failed");
    const before = await h.waitForStatus(id, "in_review");
    expect(before.failedStage).toBeNull();

    const unknown = "0190a000-0000-7000-8000-000000000001";
    const r = await retry({ ids: [job.id, unknown] });
    expect(r.status).toBe(202);
    expect(r.body.retried).toBe(0);
    expect(r.body.ids).toEqual([]);
    expect(r.body.skipped).toEqual([
      { id: job.id, reason: expect.stringMatching(/^product is in_review since .*: it moved on after the job died$/) },
      { id: unknown, reason: "no such job (never existed, or archived)" },
    ]);
    expect((await h.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe("dead");
    const after = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(after).toMatchObject({ status: "in_review", version: before.version });
  });

  it("an import superseded by a later import of the same source: skipped, the product is left alone", async () => {
    h.site.faults.fail(503, 1000);
    const first = await importOne("superseded", doc("Superseded", { images: [] }));
    const job = await deadJob("import", (j) => (j.payload as { importId?: string }).importId === first.importId);
    h.site.faults.clear();
    const second = await h.api("POST", "/v1/imports", { sourceUrl: first.url });
    const id = await productFor(first.url);
    const before = await h.waitForStatus(id, "in_review");

    const r = await retry({ ids: [job.id] });
    expect(r.body).toMatchObject({ retried: 0, ids: [], skipped: [{ id: job.id, reason: `${first.url} was imported again since, by import ${second.body.importId}` }] });
    await new Promise((res) => setTimeout(res, 300));
    const after = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(after).toMatchObject({ status: "in_review", version: before.version });
  });

  it("a product that failed later in another stage: the older job is skipped and names the one to retry", async () => {
    h.translate.faults.fail(503, 1000);
    const { url } = await importOne("failed-elsewhere", doc("Failed elsewhere", { images: ["corrupt.jpg"] }));
    const id = await productFor(url);
    await h.waitForStatus(id, "failed");
    const translation = await deadJob("translation", forProduct(id));
    h.translate.faults.clear();
    expect((await h.api("POST", "/v1/imports", { sourceUrl: url })).status).toBe(202);
    // The new run fails in its image stage (a corrupt image).
    const image = await deadJob("image", forProduct(id));
    const p = await h.waitForStatus(id, "failed");
    expect(p).toMatchObject({ failedStage: "image", failedJobId: image.id });
    const r = await retry({ ids: [translation.id] });
    expect(r.body).toMatchObject({ retried: 0, skipped: [{ id: translation.id, reason: `product failed in its image stage through job ${image.id}, not this job; retry that one` }] });
    expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status).toBe("failed");
  });
});

describe("discarding a dead job", () => {
  it("leaves the product failed and records the discard and the actor in its history", async () => {
    const { url } = await importOne("discard-me", doc("Discard me", { images: ["corrupt.jpg"] }));
    const id = await productFor(url);
    await h.waitForStatus(id, "failed");
    const job = await deadJob("image", forProduct(id));
    const r = await h.api("POST", "/v1/admin/dead-jobs/discard", { ids: [job.id], actor: "bob" }, ADMIN);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ discarded: 1, ids: [job.id], skipped: [] });
    const p = await h.db.prisma.product.findUniqueOrThrow({ where: { id } });
    expect(p).toMatchObject({ status: "failed", failedStage: "image", failedJobId: job.id });
    expect((await history(id)).at(-1)).toMatchObject({
      from: "failed",
      to: "failed",
      actor: "admin:bob",
      details: { action: "dead-job-discarded", jobId: job.id, jobType: "image", by: "bob" },
    });
    expect(await h.db.prisma.job.count({ where: { id: job.id } })).toBe(0);
    const archived = await h.db.prisma.archivedJob.findUniqueOrThrow({ where: { id: job.id } });
    expect((archived.history as { event?: string; by?: string }[]).at(-1)).toMatchObject({ event: "discarded", by: "bob" });
    // Retrying it now: nothing to retry.
    expect((await retry({ ids: [job.id] })).body).toMatchObject({ retried: 0, skipped: [{ id: job.id, reason: "no such job (never existed, or archived)" }] });
  });
});

describe("the actor", () => {
  it.each([[""], ["two words"], ["x".repeat(101)], [42]])("%j is a 400 problem", async (actor) => {
    const r = await retry({ filter: { type: "image" }, actor });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
  });
});
