/**
 * Read and operator actions on job state, for the API: list and inspect jobs, retry or
 * discard dead ones. Routes parse and map; these functions do the work.
 *
 * Retrying or discarding a dead job may mean more than its row: a pipeline job stands for a
 * product's stage (services/pipeline/dead-jobs.ts puts the product back into that stage, or
 * notes the discard in its history). That happens through a DeadJobPolicy, inside the same
 * transaction as the job's own change, one transaction per job: the job and its product move
 * together or not at all, and a job whose product moved on is skipped (with the reason)
 * instead of being reset. Without a policy a retry is the plain reset.
 */
import type { Database, Prisma } from "../db/client.js";
import { prismaExecutor } from "../db/executors.js";
import { JobStore } from "./job-store.js";
import type { JobStatus, JobType } from "./types.js";

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

/** A dead job as a policy sees it (read with a row lock inside the job's transaction). */
export interface DeadJob {
  readonly id: string;
  readonly type: JobType;
  readonly payload: unknown;
  readonly requestId: string | null;
  readonly deadAt: Date | null;
  readonly lastError: string | null;
}

export interface OperatorAction {
  /** Who asked (the operator's name from the request, "admin" when it gave none). */
  readonly actor: string;
  readonly now: Date;
}

export type RetryDecision = { readonly retry: true } | { readonly retry: false; readonly reason: string };

/** What retrying or discarding a dead job does beyond the job row; runs in the job's transaction. */
export interface DeadJobPolicy {
  /** Prepares the retry (e.g. puts the product back into the stage) or says why the job is skipped. */
  beforeRetry(tx: Prisma.TransactionClient, job: DeadJob, op: OperatorAction): Promise<RetryDecision>;
  /** Records the discard where it matters (e.g. the product's history). */
  beforeDiscard(tx: Prisma.TransactionClient, job: DeadJob, op: OperatorAction): Promise<void>;
}

export interface DeadJobSelection {
  ids?: string[];
  filter?: DeadJobFilter;
  limit: number;
  actor: string;
}

export interface SkippedJob {
  readonly id: string;
  readonly reason: string;
}

/** How many jobs' transactions run at once during one retry or discard call. */
const PARALLEL = 8;

/**
 * Puts dead jobs back to pending with a fresh set of attempts (their history is kept, with the
 * actor) and leaves them unpublished, for the caller (the engine) to publish. With a policy,
 * each job is reset in one transaction with the policy's changes, or skipped with its reason.
 * Explicit ids that are not dead are reported as skipped too.
 */
export async function retryDeadJobs(db: Database, sel: DeadJobSelection, now: Date, policy?: DeadJobPolicy): Promise<{ retried: string[]; skipped: SkippedJob[] }> {
  let retried: string[];
  const skipped: SkippedJob[] = [];
  if (!policy) {
    retried = await resetWhere(db, sel, now);
  } else {
    retried = [];
    await eachDeadJob(db, sel, async (tx, job) => {
      const decision = await policy.beforeRetry(tx, job, { actor: sel.actor, now });
      if (!decision.retry) return void skipped.push({ id: job.id, reason: decision.reason });
      await tx.$executeRawUnsafe(`${reset("$2", "$3")} WHERE id = $1::uuid`, job.id, now.toISOString(), sel.actor);
      retried.push(job.id);
    }, (id) => skipped.push({ id, reason: "no longer dead: another call retried or discarded it meanwhile" }));
  }
  skipped.push(...(await notDead(db, sel.ids, [...retried, ...skipped.map((s) => s.id)])));
  return { retried, skipped };
}

/** The plain reset of dead jobs (no policy): their ids. */
export async function resetDeadJobs(db: Database, sel: DeadJobSelection, now: Date): Promise<string[]> {
  return (await retryDeadJobs(db, sel, now)).retried;
}

/**
 * Moves dead jobs to archived_jobs (never deleted), with the discard and its actor in each
 * job's history; with a policy, in one transaction per job with the policy's record of it.
 */
export async function discardDeadJobs(db: Database, sel: DeadJobSelection, now: Date, policy?: DeadJobPolicy): Promise<{ discarded: string[]; skipped: SkippedJob[] }> {
  const discarded: string[] = [];
  const skipped: SkippedJob[] = [];
  await eachDeadJob(db, sel, async (tx, job) => {
    await policy?.beforeDiscard(tx, job, { actor: sel.actor, now });
    await tx.$executeRawUnsafe(
      `UPDATE jobs SET updated_at = $2::timestamptz,
         history = history || jsonb_build_array(jsonb_build_object('event', 'discarded', 'at', $2::timestamptz, 'by', $3::text))
       WHERE id = $1::uuid`,
      job.id,
      now.toISOString(),
      sel.actor,
    );
    discarded.push(...(await new JobStore(prismaExecutor(tx)).archiveIds([job.id], now)));
  }, (id) => skipped.push({ id, reason: "no longer dead: another call retried or discarded it meanwhile" }));
  skipped.push(...(await notDead(db, sel.ids, [...discarded, ...skipped.map((s) => s.id)])));
  return { discarded, skipped };
}

/** The reset of a dead job; `at` and `by` are the placeholders of the time and the actor. */
const reset = (at: string, by: string) =>
  `UPDATE jobs SET status = 'pending', attempts = 0, published = false, dead_at = NULL, run_at = NULL, started_at = NULL,
       finished_at = NULL, updated_at = ${at}::timestamptz,
       history = history || jsonb_build_array(jsonb_build_object('event', 'retried-from-dead', 'at', ${at}::timestamptz, 'by', ${by}::text))`;

async function resetWhere(db: Database, sel: DeadJobSelection, now: Date): Promise<string[]> {
  const { where, params } = deadJobWhere(sel);
  const n = params.length;
  const r = await db.sql.query<{ id: string }>(
    `${reset(`$${n + 1}`, `$${n + 3}`)}
     WHERE id IN (SELECT id FROM jobs WHERE ${where} ORDER BY dead_at LIMIT $${n + 2} FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [...params, now.toISOString(), sel.limit, sel.actor],
  );
  return r.rows.map((x) => x.id);
}

/**
 * Runs `fn` for each selected dead job in a transaction of its own that holds the job's row
 * lock; a job another call holds or already changed goes to `gone`.
 */
async function eachDeadJob(
  db: Database,
  sel: DeadJobSelection,
  fn: (tx: Prisma.TransactionClient, job: DeadJob) => Promise<void>,
  gone: (id: string) => void,
): Promise<void> {
  const { where, params } = deadJobWhere(sel);
  const ids = (await db.sql.query<{ id: string }>(`SELECT id FROM jobs WHERE ${where} ORDER BY dead_at LIMIT $${params.length + 1}`, [...params, sel.limit])).rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += PARALLEL) {
    await Promise.all(
      ids.slice(i, i + PARALLEL).map((id) =>
        db.prisma.$transaction(async (tx) => {
          const [row] = await tx.$queryRawUnsafe<{ id: string; type: JobType; payload: unknown; request_id: string | null; dead_at: Date | null; last_error: string | null }[]>(
            `SELECT id, type::text AS type, payload, request_id, dead_at, last_error FROM jobs WHERE id = $1::uuid AND status = 'dead' FOR UPDATE SKIP LOCKED`,
            id,
          );
          if (!row) return gone(id);
          await fn(tx, { id: row.id, type: row.type, payload: row.payload, requestId: row.request_id, deadAt: row.dead_at, lastError: row.last_error });
        }),
      ),
    );
  }
}

/** Explicit ids that were neither handled nor are still dead: unknown, or not (any longer) dead. */
async function notDead(db: Database, ids: string[] | undefined, handled: string[]): Promise<SkippedJob[]> {
  const rest = (ids ?? []).filter((id) => !handled.includes(id));
  if (rest.length === 0) return [];
  const found = new Map((await db.sql.query<{ id: string; status: JobStatus }>(`SELECT id, status::text AS status FROM jobs WHERE id = ANY($1::uuid[])`, [rest])).rows.map((r) => [r.id, r.status]));
  return rest.flatMap((id) => {
    const status = found.get(id);
    if (status === "dead") return []; // still dead: beyond this call's limit
    return [{ id, reason: status ? `not dead: the job is ${status}` : "no such job (never existed, or archived)" }];
  });
}
