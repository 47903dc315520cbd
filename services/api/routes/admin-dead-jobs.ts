/**
 * The dead-letter queue for operators (ADMIN_TOKENS): list and inspect dead jobs, retry them
 * (by ids or a filter) or discard them (moved to archived_jobs, never deleted). With a
 * DeadJobPolicy (the pipeline's, services/pipeline/dead-jobs.ts) a retry also puts the job's
 * product back into its stage, and a job whose product moved on is answered in `skipped`.
 * `actor` in the body names the operator in the job's and the product's history.
 */
import { Router } from "express";
import { z } from "zod";
import type { Database } from "../../db/client.js";
import type { JobEngine } from "../../jobs/engine.js";
import { discardDeadJobs, getJob, listJobs, retryDeadJobs, type DeadJobPolicy } from "../../jobs/job-queries.js";
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

/** Who is acting, as recorded in the histories; "admin" when the request does not say. */
export const DEFAULT_ACTOR = "admin";
const actor = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._@+:-]+$/, { message: "letters, digits and . _ @ + : - only (a user name or e-mail address)" });

/** Either explicit ids or a filter; `limit` bounds how many one call touches. */
export const deadJobSelection = z
  .object({
    // Canonical (lowercase) ids: the answer names each id as Postgres prints it.
    ids: z.array(z.uuid().toLowerCase()).min(1).max(1000).optional(),
    filter: filter.optional(),
    limit: z.number().int().min(1).max(1000).default(1000),
    actor: actor.default(DEFAULT_ACTOR),
  })
  .strict()
  .refine((b) => (b.ids ? 1 : 0) + (b.filter ? 1 : 0) === 1, { message: "give either ids or filter" });

export function deadJobsAdminRouter(opts: { db: Database; engine: JobEngine; adminTokens: readonly string[]; clock?: () => Date; policy?: DeadJobPolicy }): Router {
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
    const { retried: ids, skipped } = await retryDeadJobs(opts.db, sel, clock(), opts.policy);
    // Published now when the broker is up; otherwise the outbox relay publishes them later.
    const published = await opts.engine.publishPending(ids).catch(() => 0);
    res.status(202).json({ retried: ids.length, published, ids, skipped });
  });

  router.post("/v1/admin/dead-jobs/discard", async (req, res) => {
    const sel = deadJobSelection.parse(req.body);
    const { discarded, skipped } = await discardDeadJobs(opts.db, sel, clock(), opts.policy);
    res.json({ discarded: discarded.length, ids: discarded, skipped });
  });
  return router;
}
