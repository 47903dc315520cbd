/** GET /v1/jobs?type=&status=&limit=&cursor= and GET /v1/jobs/:id: job state for clients (API token) and operators (admin token). */
import { Router } from "express";
import { z } from "zod";
import type { Database } from "../../db/client.js";
import { getJob, listJobs } from "../../jobs/job-queries.js";
import { JOB_STATUSES, JOB_TYPES } from "../../jobs/types.js";
import { requireBearer } from "../auth.js";
import { notFound } from "../problem.js";

export const jobListQuery = z.object({
  type: z.enum(JOB_TYPES).optional(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.uuid().optional(),
});

export const jobIdParam = z.object({ id: z.uuid() });

export function jobsRouter(opts: { db: Database; tokens: readonly string[] }): Router {
  const router = Router();
  router.use("/v1/jobs", requireBearer(opts.tokens));
  router.get("/v1/jobs", async (req, res) => {
    const q = jobListQuery.parse(req.query);
    const page = await listJobs(opts.db, q);
    res.json({ items: page.items, nextCursor: page.nextCursor ?? null });
  });
  router.get("/v1/jobs/:id", async (req, res) => {
    const { id } = jobIdParam.parse(req.params);
    const job = await getJob(opts.db, id);
    if (!job) throw notFound(`no job ${id}`);
    res.json(job);
  });
  return router;
}
