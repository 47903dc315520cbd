/**
 * The dead-letter queue for operators (ADMIN_TOKENS): list and inspect dead jobs, retry them
 * (by ids or a filter) or discard them (moved to archived_jobs, never deleted).
 */
import { Router } from "express";
import { z } from "zod";
import type { Database } from "../../db/client.js";
import type { JobEngine } from "../../jobs/engine.js";
import { getJob, listJobs, markDiscarded, resetDeadJobs } from "../../jobs/job-queries.js";
import { JOB_TYPES } from "../../jobs/types.js";
import { requireBearer } from "../auth.js";
import { notFound } from "../problem.js";
import { jobIdParam } from "./jobs.js";

const listQuery = z.object({
  type: z.enum(JOB_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.uuid().optional(),
});

const filter = z
  .object({
    type: z.enum(JOB_TYPES).optional(),
    errorContains: z.string().min(1).max(500).optional(),
    deadBefore: z.coerce.date().optional(),
    deadAfter: z.coerce.date().optional(),
  })
  .strict()
  .refine((f) => Object.values(f).some((v) => v !== undefined), { message: "name at least one condition" });

/** Either explicit ids or a filter; `limit` bounds how many one call touches. */
export const deadJobSelection = z
  .object({
    ids: z.array(z.uuid()).min(1).max(1000).optional(),
    filter: filter.optional(),
    limit: z.number().int().min(1).max(1000).default(1000),
  })
  .strict()
  .refine((b) => (b.ids ? 1 : 0) + (b.filter ? 1 : 0) === 1, { message: "give either ids or filter" });

export function deadJobsAdminRouter(opts: { db: Database; engine: JobEngine; adminTokens: readonly string[]; clock?: () => Date }): Router {
  const clock = opts.clock ?? (() => new Date());
  const router = Router();
  router.use("/v1/admin/dead-jobs", requireBearer(opts.adminTokens));

  router.get("/v1/admin/dead-jobs", async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await listJobs(opts.db, { ...q, status: "dead" });
    res.json({ items: page.items, nextCursor: page.nextCursor ?? null });
  });

  router.get("/v1/admin/dead-jobs/:id", async (req, res) => {
    const { id } = jobIdParam.parse(req.params);
    const job = await getJob(opts.db, id);
    if (!job || job.status !== "dead") throw notFound(`no dead job ${id}`);
    res.json(job);
  });

  router.post("/v1/admin/dead-jobs/retry", async (req, res) => {
    const sel = deadJobSelection.parse(req.body);
    const ids = await resetDeadJobs(opts.db, { ...sel, actor: "admin" }, clock());
    // Published now when the broker is up; otherwise the outbox relay publishes them later.
    const published = await opts.engine.publishPending(ids).catch(() => 0);
    res.status(202).json({ retried: ids.length, published, ids });
  });

  router.post("/v1/admin/dead-jobs/discard", async (req, res) => {
    const sel = deadJobSelection.parse(req.body);
    const now = clock();
    const marked = await markDiscarded(opts.db, { ...sel, actor: "admin" }, now);
    const archived = await opts.engine.store.archiveIds(marked, now);
    res.json({ discarded: archived.length, ids: archived });
  });
  return router;
}
