/**
 * With AUTO_PUSH_ON_APPROVE, an approval and its push job commit in one transaction (the job
 * through the engine's outbox). Found while building the chaos run (npm run chaos terminates the
 * pipeline's database connections): the push job was written after the approval had committed,
 * so a database connection lost in between left an approved product that no job would push. Now a crash after the commit leaves a job the
 * relay publishes, and a job write that fails leaves the product in review.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import type { TransactionalJobQueue } from "../../services/pipeline/jobs.js";
import { PipelineService } from "../../services/pipeline/service.js";
import { startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Imports a product and waits until it is in review. */
async function inReview(slug: string): Promise<string> {
  const url = h.site.setProduct(slug, { title: slug, description: "", price: "3.00", currency: "EUR", images: [], format: "json" });
  const res = await h.api("POST", "/v1/imports", { sourceUrl: url });
  expect(res.status).toBe(202);
  const id = await waitFor("product", async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
  await h.waitForStatus(id, "in_review");
  return id;
}

describe("an approval and its push job", () => {
  it("a crash between the commit and the publish: the push job is in the outbox and the relay pushes the product", async () => {
    const engine = h.platform.jobs.engine;
    const dying: TransactionalJobQueue = {
      enqueue: async () => undefined, // nothing written outside the transaction reaches the database
      enqueueInTransaction: async (sql, items) => {
        await engine.enqueueInTransaction(sql, items);
        return { publish: async () => undefined }; // the process "dies" right after the commit
      },
    };
    const service = new PipelineService({ db: h.db, jobs: dying, metrics: new MetricsRegistry(), logger: silentLogger(), autoPushOnApprove: true, blockPrivateSources: false });
    const id = await inReview("approve-crash");
    const { pushJobId } = await service.review(id, { decision: "approve", reviewer: "rita" }, "req-approve");
    expect(pushJobId).not.toBeNull();
    expect(await h.db.prisma.job.findUniqueOrThrow({ where: { id: pushJobId! } })).toMatchObject({ type: "push", status: "pending", published: false, requestId: "req-approve", payload: { productId: id } });
    await h.waitForStatus(id, "pushed", 30_000);
  });

  it("a push job write that fails rolls the approval back (the product stays in review)", async () => {
    const service = new PipelineService({ db: h.db, jobs: h.platform.jobs.engine, metrics: new MetricsRegistry(), logger: silentLogger(), autoPushOnApprove: true, blockPrivateSources: false });
    const id = await inReview("approve-refused");
    await h.db.sql.exec(`
      CREATE FUNCTION test_refuse_push_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.type = 'push' THEN RAISE EXCEPTION 'the jobs table refuses push jobs (test)'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER test_refuse_push_inserts BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_push_inserts();`);
    try {
      await expect(service.review(id, { decision: "approve", reviewer: "rita" })).rejects.toThrow();
      expect((await h.db.prisma.product.findUniqueOrThrow({ where: { id } })).status).toBe("in_review");
    } finally {
      await h.db.sql.exec(`DROP TRIGGER test_refuse_push_inserts ON jobs; DROP FUNCTION test_refuse_push_inserts();`);
    }
  });
});
