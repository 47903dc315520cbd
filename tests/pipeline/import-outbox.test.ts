/**
 * An import's row and its jobs commit in one transaction (the jobs through the engine's
 * outbox): a process that dies after the commit and before the publish leaves jobs the outbox
 * relay publishes, so the import still completes; a failed job write leaves no import behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import type { TransactionalJobQueue } from "../../services/pipeline/jobs.js";
import { PipelineService } from "../../services/pipeline/service.js";
import { startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
const orphanItems = async () =>
  Number((await h.db.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM import_items i WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = i.job_id)`)).rows[0]!.n);

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("an import and its jobs", () => {
  it("a crash between the commit and the publish: the outbox relay publishes the jobs and the import completes", async () => {
    const engine = h.platform.jobs.engine;
    // The process "dies" right after the commit: whatever was to be published after it never is.
    const dying: TransactionalJobQueue = {
      enqueue: async () => undefined,
      enqueueInTransaction: async (sql, items) => {
        await engine.enqueueInTransaction(sql, items);
        return { publish: async () => undefined };
      },
    };
    const service = new PipelineService({ db: h.db, jobs: dying, metrics: new MetricsRegistry(), logger: silentLogger(), autoPushOnApprove: false, blockPrivateSources: false });
    const url = h.site.setProduct("crash-after-commit", { title: "Crash after commit", description: "", price: "2.00", currency: "EUR", images: [], format: "json" });
    const { importId, items } = await service.createImport([url], "req-crash");

    const job = await h.db.prisma.job.findUniqueOrThrow({ where: { id: items[0]!.jobId } });
    expect(job).toMatchObject({ type: "import", status: "pending", published: false, requestId: "req-crash", payload: { importId, sourceUrl: url } });
    // Only the relay can publish it now (after its grace period); the import then runs through.
    const id = await waitFor("product", async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
    await h.waitForStatus(id, "in_review");
    expect((await h.api("GET", `/v1/imports/${importId}`)).body).toMatchObject({ done: true, byStatus: { in_review: 1 } });
    expect(await orphanItems()).toBe(0);
  });

  it("a job write that fails leaves no import row behind (the API answers 5xx)", async () => {
    await h.db.sql.exec(`
      CREATE FUNCTION test_refuse_job_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the jobs table refuses inserts (test)'; END $$;
      CREATE TRIGGER test_refuse_job_inserts BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION test_refuse_job_inserts();`);
    const importsBefore = await h.db.prisma.import.count();
    try {
      const url = h.site.setProduct("jobs-refused", { title: "Jobs refused", description: "", price: "2.00", currency: "EUR", images: [], format: "json" });
      const res = await h.api("POST", "/v1/imports", { sourceUrls: [url, `${url}?variant=2`] });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await h.db.prisma.importItem.count({ where: { sourceUrl: url } })).toBe(0);
      expect(await h.db.prisma.import.count()).toBe(importsBefore);
    } finally {
      await h.db.sql.exec(`DROP TRIGGER test_refuse_job_inserts ON jobs; DROP FUNCTION test_refuse_job_inserts();`);
    }
    expect(await orphanItems()).toBe(0);
  });
});
