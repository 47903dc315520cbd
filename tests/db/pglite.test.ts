/**
 * The embedded database `npm start` uses without DATABASE_URL: migrations applied on open, and
 * the job engine's batched SQL accepted by PGlite (it cannot bind enum-array parameters).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../services/db/client.js";
import { JobStore } from "../../services/jobs/job-store.js";

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
});
