/**
 * The embedded database `npm start` uses without DATABASE_URL: migrations applied on open, the
 * job engine's batched SQL accepted by PGlite (it cannot bind enum-array parameters), the job
 * store inside a Prisma transaction (imports), and parallel per-job transactions (dead-job retry).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../services/db/client.js";
import { prismaExecutor } from "../../services/db/executors.js";
import { retryDeadJobs } from "../../services/jobs/job-queries.js";
import { JobStore } from "../../services/jobs/job-store.js";
import { pipelineDeadJobPolicy } from "../../services/pipeline/dead-jobs.js";

describe("the embedded PGlite database", () => {
  it("is migrated on open and takes the job engine's batch insert", async () => {
    const db = await openDatabase({});
    try {
      const ids = [randomUUID(), randomUUID()];
      const inserted = await new JobStore(db.sql).insert(
        [
          { id: ids[0]!, type: "import", payload: { sourceUrl: "https://example.com/p/1" }, maxAttempts: 6 },
          { id: ids[1]!, type: "source_check", payload: { productId: "x" }, maxAttempts: 6, requestId: "req-1" },
        ],
        new Date(),
      );
      expect([...inserted].sort()).toEqual([...ids].sort());
      const rows = await db.prisma.job.findMany({ orderBy: { type: "asc" } });
      expect(rows.map((r) => [r.type, r.status, r.requestId])).toEqual([
        ["import", "pending", null],
        ["source_check", "pending", "req-1"],
      ]);
    } finally {
      await db.close();
    }
  });

  it("writes jobs inside a Prisma transaction (committed together, rolled back together)", async () => {
    const db = await openDatabase({});
    try {
      const [kept, dropped] = [randomUUID(), randomUUID()];
      await db.prisma.$transaction(async (tx) => {
        await tx.import.create({ data: { id: randomUUID(), sourceUrls: ["https://example.com/a"] } });
        await new JobStore(prismaExecutor(tx)).insert([{ id: kept, type: "import", payload: { a: 1 }, maxAttempts: 6 }], new Date());
      });
      await expect(
        db.prisma.$transaction(async (tx) => {
          await new JobStore(prismaExecutor(tx)).insert([{ id: dropped, type: "import", payload: { b: 2 }, maxAttempts: 6 }], new Date());
          throw new Error("the caller fails after the job write");
        }),
      ).rejects.toThrow(/caller fails/);
      expect((await db.prisma.job.findMany()).map((j) => j.id)).toEqual([kept]);
      expect(await db.prisma.import.count()).toBe(1);
    } finally {
      await db.close();
    }
  });

  it("retries dead jobs with their products, one transaction per job, several at once", async () => {
    const db = await openDatabase({});
    try {
      const deadAt = new Date();
      const pairs = Array.from({ length: 12 }, (_, i) => ({ product: randomUUID(), job: randomUUID(), i }));
      for (const { product, job, i } of pairs) {
        await db.prisma.product.create({
          data: { id: product, sourceUrl: `https://example.com/p/${i}`, title: `P${i}`, status: "failed", failedStage: "translation", failedJobId: job, statusChangedAt: new Date(deadAt.getTime() - 1000) },
        });
        await db.prisma.job.create({ data: { id: job, type: "translation", status: "dead", payload: { productId: product }, maxAttempts: 6, attempts: 6, deadAt } });
      }
      const r = await retryDeadJobs(db, { filter: { type: "translation" }, limit: 100, actor: "pat" }, new Date(), pipelineDeadJobPolicy);
      expect(r.skipped).toEqual([]);
      expect(r.retried.sort()).toEqual(pairs.map((p) => p.job).sort());
      expect(await db.prisma.product.count({ where: { status: "translating", failedStage: null } })).toBe(12);
      expect(await db.prisma.job.count({ where: { status: "pending", published: false } })).toBe(12);
      expect(await db.prisma.productEvent.count({ where: { fromStatus: "failed", toStatus: "translating", actor: "admin:pat" } })).toBe(12);
    } finally {
      await db.close();
    }
  });
});
