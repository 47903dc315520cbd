/**
 * Read and operator actions on job state, for the API: list and inspect jobs, retry or
 * discard dead ones. Routes parse and map; these functions do the work.
 */
import type { Database } from "../db/client.js";
import type { JobType } from "./types.js";

export interface DeadJobFilter {
  type?: JobType;
  /** Case-insensitive substring of the last error. */
  errorContains?: string;
  deadBefore?: Date;
  deadAfter?: Date;
}

/** The listing reads the status index in order (see job-listing.ts). */
export { listJobs, type JobListQuery } from "./job-listing.js";

export async function getJob(db: Database, id: string) {
  return db.prisma.job.findUnique({ where: { id } });
}

/** SQL conditions selecting dead jobs by ids or filter; params start at $1. */
function deadJobWhere(sel: { ids?: string[]; filter?: DeadJobFilter }): { where: string; params: unknown[] } {
  const conds = [`status = 'dead'`];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    conds.push(sql(params.length));
  };
  if (sel.ids) add((n) => `id = ANY($${n}::uuid[])`, sel.ids);
  const f = sel.filter ?? {};
  if (f.type) add((n) => `type = $${n}::"JobType"`, f.type);
  if (f.errorContains) add((n) => `last_error ILIKE '%' || $${n} || '%'`, f.errorContains.replace(/[\\%_]/g, (c) => `\\${c}`));
  if (f.deadBefore) add((n) => `dead_at < $${n}`, f.deadBefore.toISOString());
  if (f.deadAfter) add((n) => `dead_at >= $${n}`, f.deadAfter.toISOString());
  return { where: conds.join(" AND "), params };
}

/**
 * Puts dead jobs back to pending with a fresh set of attempts (their history is kept) and
 * leaves them unpublished, for the caller (the engine) to publish. Returns their ids.
 */
export async function resetDeadJobs(db: Database, sel: { ids?: string[]; filter?: DeadJobFilter; limit: number; actor: string }, now: Date): Promise<string[]> {
  const { where, params } = deadJobWhere(sel);
  const n = params.length;
  const r = await db.sql.query<{ id: string }>(
    `UPDATE jobs SET status = 'pending', attempts = 0, published = false, dead_at = NULL, run_at = NULL, started_at = NULL,
       finished_at = NULL, updated_at = $${n + 1},
       history = history || jsonb_build_array(jsonb_build_object('event', 'retried-from-dead', 'at', $${n + 1}::timestamptz, 'by', $${n + 3}::text))
     WHERE id IN (SELECT id FROM jobs WHERE ${where} ORDER BY dead_at LIMIT $${n + 2} FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [...params, now.toISOString(), sel.limit, sel.actor],
  );
  return r.rows.map((x) => x.id);
}

/** Notes the discard in each job's history and returns the ids to archive. */
export async function markDiscarded(db: Database, sel: { ids?: string[]; filter?: DeadJobFilter; limit: number; actor: string }, now: Date): Promise<string[]> {
  const { where, params } = deadJobWhere(sel);
  const n = params.length;
  const r = await db.sql.query<{ id: string }>(
    `UPDATE jobs SET updated_at = $${n + 1},
       history = history || jsonb_build_array(jsonb_build_object('event', 'discarded', 'at', $${n + 1}::timestamptz, 'by', $${n + 3}::text))
     WHERE id IN (SELECT id FROM jobs WHERE ${where} ORDER BY dead_at LIMIT $${n + 2} FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [...params, now.toISOString(), sel.limit, sel.actor],
  );
  return r.rows.map((x) => x.id);
}
