/**
 * The final checks of a chaos run, from the database and the store stand-in (issue 11):
 *   - every job is `completed` or `dead`, and every dead job has a reason (last_error);
 *   - none is lost: every import the API acknowledged exists with its items and jobs, every item
 *     ended in a product at the end of the pipeline (pushed, failed with its dead job, rejected,
 *     source gone) or in a dead import job, and every product recorded `pushed` is in the store;
 *   - none is stuck: no job `pending`, `processing` or `failed` (waiting for a retry), no product
 *     still in a working status;
 *   - no product is written to the store twice (the stand-in counts Idempotency-Key replays apart
 *     from real writes; the chaos run changes no content after a push, so a second write is a
 *     duplicate push);
 *   - no import row exists without its jobs;
 *   - no dead letter is for work that was done: a dead pipeline job (import, translation, image,
 *     push) whose product reached the store anyway would page and be retried for nothing, and
 *     breaks "every unpushed product has its dead job". Each dead job is listed with its product
 *     and the product's final status, so a surprising one names itself.
 */
import type pg from "pg";
import type { ProductStatus } from "../../services/pipeline/status.js";
import type { AcknowledgedImport } from "./load.js";

export type Query = <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;

/** Product statuses the pipeline ends in; any other means work is still owed. */
export const FINAL_PRODUCT_STATUSES: readonly ProductStatus[] = ["pushed", "failed", "rejected", "source_gone"];
/** Job statuses that mean work is still owed. */
export const OPEN_JOB_STATUSES = ["pending", "processing", "failed"] as const;

export interface ChaosCounts {
  readonly sent: number;
  readonly completed: number;
  readonly dead: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly stuck: number;
  /** Imports without (all of) their jobs. */
  readonly orphaned: number;
  /** Dead jobs without a reason. */
  readonly deadWithoutReason: number;
  /** Dead pipeline-stage jobs whose product was pushed all the same. */
  readonly deadYetPushed: number;
  readonly pushed: number;
  /** Dead jobs by type and reason (ids, URLs and numbers blanked). */
  readonly deadByReason: Readonly<Record<string, number>>;
  /** Every dead job: its type, product (if any) and that product's final status, and its reason. */
  readonly deadJobs: readonly DeadJob[];
  /** What each loss, duplicate and stuck item is, for the report (at most a few of each). */
  readonly problems: readonly string[];
}

export interface DeadJob {
  readonly id: string;
  readonly type: string;
  readonly productId: string | null;
  readonly productStatus: string | null;
  readonly reason: string | null;
}

/** Job types whose death stops their product short of the store (a source check's does not). */
const STAGE_JOB_TYPES = ["import", "translation", "image", "push"] as const;

export const failed = (c: ChaosCounts): boolean => c.lost > 0 || c.duplicated > 0 || c.stuck > 0 || c.orphaned > 0 || c.deadWithoutReason > 0 || c.deadYetPushed > 0;

/** One line per dead job, for the report. */
export const deadJobLine = (d: DeadJob): string =>
  `dead ${d.type} job ${d.id}: product ${d.productId ?? "(none)"} is ${d.productStatus ?? "-"}; ${(d.reason ?? "(no reason)").slice(0, 200)}`;

/** A reason with its particulars blanked, so equal causes group together. */
export const reasonKey = (type: string, reason: string | null): string =>
  `${type}: ${(reason ?? "(none)")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<id>")
    .replace(/https?:\/\/\S+/g, "<url>")
    .replace(/\d+/g, "N")
    .replace(/\s+/g, " ")
    .slice(0, 120)}`;

/** Counts jobs and products still owed work (the settle loop waits for zero). */
export async function openWork(query: Query): Promise<{ jobs: number; products: number }> {
  const [row] = await query<{ jobs: number; products: number }>(
    `SELECT (SELECT count(*)::int FROM jobs WHERE status::text = ANY($1)) AS jobs,
            (SELECT count(*)::int FROM products WHERE NOT (status::text = ANY($2))) AS products`,
    [OPEN_JOB_STATUSES, FINAL_PRODUCT_STATUSES],
  );
  return row ?? { jobs: 0, products: 0 };
}

export async function checkChaosRun(opts: {
  query: Query;
  acknowledged: readonly AcknowledgedImport[];
  /** The store stand-in's real writes per externalId (the pipeline's product id). */
  storeWrites: ReadonlyMap<string, number>;
}): Promise<ChaosCounts> {
  const { query, acknowledged } = opts;
  const problems: string[] = [];
  const note = (what: string) => {
    if (problems.length < 20) problems.push(what);
  };

  const byStatus = Object.fromEntries((await query<{ status: string; n: number }>("SELECT status::text, count(*)::int AS n FROM jobs GROUP BY 1")).map((r) => [r.status, r.n]));
  const openJobs = await query<{ id: string; type: string; status: string; attempts: number }>("SELECT id, type::text, status::text, attempts FROM jobs WHERE status::text = ANY($1) LIMIT 20", [OPEN_JOB_STATUSES]);
  for (const j of openJobs) note(`stuck job ${j.id} (${j.type}) is ${j.status} after ${j.attempts} attempts`);
  const stuckJobs = OPEN_JOB_STATUSES.reduce((n, s) => n + (byStatus[s] ?? 0), 0);

  // A dead job's product: the payload's productId, or for an import job the product its item made.
  const deadJobs = (
    await query<{ id: string; type: string; last_error: string | null; product_id: string | null; product_status: string | null }>(
      `SELECT j.id, j.type::text, j.last_error, p.id AS product_id, p.status::text AS product_status
         FROM jobs j
         LEFT JOIN import_items ii ON ii.job_id = j.id
         LEFT JOIN products p ON p.id::text = COALESCE(j.payload->>'productId', ii.product_id::text)
        WHERE j.status = 'dead'
        ORDER BY j.type, j.id`,
    )
  ).map((r): DeadJob => ({ id: r.id, type: r.type, productId: r.product_id, productStatus: r.product_status, reason: r.last_error }));
  const deadByReason: Record<string, number> = {};
  let deadWithoutReason = 0;
  let deadYetPushed = 0;
  for (const d of deadJobs) {
    if (!d.reason?.trim()) deadWithoutReason++;
    const k = reasonKey(d.type, d.reason);
    deadByReason[k] = (deadByReason[k] ?? 0) + 1;
    if (d.productStatus === "pushed" && (STAGE_JOB_TYPES as readonly string[]).includes(d.type)) {
      deadYetPushed++;
      note(`${deadJobLine(d)} (a dead letter for work that was done)`);
    }
  }
  if (deadWithoutReason > 0) note(`${deadWithoutReason} dead jobs have no reason`);

  // Acknowledged imports and their jobs exist.
  const importIds = [...new Set(acknowledged.map((a) => a.importId))];
  const present = new Set((await query<{ id: string }>("SELECT id FROM imports WHERE id = ANY($1::uuid[])", [importIds])).map((r) => r.id));
  const jobIds = acknowledged.map((a) => a.jobId);
  const presentJobs = new Set((await query<{ id: string }>("SELECT id FROM jobs WHERE id = ANY($1::uuid[])", [jobIds])).map((r) => r.id));
  let lost = 0;
  for (const a of acknowledged) {
    if (!present.has(a.importId)) {
      lost++;
      note(`acknowledged import ${a.importId} (${a.sourceUrl}) is not in the database`);
    } else if (!presentJobs.has(a.jobId)) {
      lost++;
      note(`the import job ${a.jobId} of acknowledged import ${a.importId} is not in the database`);
    }
  }

  // No import without its jobs (any import, acknowledged or not).
  const [orphans] = await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM imports i
      WHERE NOT EXISTS (SELECT 1 FROM import_items ii WHERE ii.import_id = i.id)
         OR EXISTS (SELECT 1 FROM import_items ii LEFT JOIN jobs j ON j.id = ii.job_id WHERE ii.import_id = i.id AND j.id IS NULL)`,
  );
  const orphaned = orphans?.n ?? 0;
  if (orphaned > 0) note(`${orphaned} imports have no jobs (or lack some)`);

  // Each acknowledged item ended somewhere final.
  const items = await query<{ import_id: string; source_url: string; product_id: string | null; product_status: string | null; job_status: string | null; failed_job_status: string | null }>(
    `SELECT ii.import_id, ii.source_url, p.id AS product_id, p.status::text AS product_status, j.status::text AS job_status, fj.status::text AS failed_job_status
       FROM import_items ii
       LEFT JOIN products p ON p.id = ii.product_id
       LEFT JOIN jobs j ON j.id = ii.job_id
       LEFT JOIN jobs fj ON fj.id = p.failed_job_id
      WHERE ii.import_id = ANY($1::uuid[])`,
    [importIds],
  );

  for (const it of items) {
    if (it.product_id === null) {
      if (it.job_status === "completed") {
        lost++;
        note(`import ${it.import_id} (${it.source_url}): its job completed but no product is linked`);
      }
      continue; // a dead import job is a final outcome; an open one is counted as a stuck job
    }
    if (it.product_status === "pushed" && !opts.storeWrites.has(it.product_id)) {
      lost++;
      note(`product ${it.product_id} is recorded pushed but the store never received it`);
    } else if (it.product_status === "failed" && it.failed_job_status !== "dead") {
      lost++;
      note(`product ${it.product_id} failed without a dead job to retry (its failed job is ${it.failed_job_status ?? "missing"})`);
    }
  }
  const [working] = await query<{ n: number }>("SELECT count(*)::int AS n FROM products WHERE NOT (status::text = ANY($1))", [FINAL_PRODUCT_STATUSES]);
  const stuckProducts = working?.n ?? 0;
  if (stuckProducts > 0) {
    const sample = await query<{ id: string; status: string }>("SELECT id, status::text FROM products WHERE NOT (status::text = ANY($1)) LIMIT 5", [FINAL_PRODUCT_STATUSES]);
    for (const s of sample) note(`stuck product ${s.id} is still ${s.status}`);
  }

  let duplicated = 0;
  for (const [externalId, writes] of opts.storeWrites) {
    if (writes > 1) {
      duplicated++;
      note(`product ${externalId} was written to the store ${writes} times`);
    }
  }
  const [pushed] = await query<{ n: number }>("SELECT count(*)::int AS n FROM products WHERE status = 'pushed'");

  return {
    sent: acknowledged.length,
    completed: byStatus.completed ?? 0,
    dead: byStatus.dead ?? 0,
    lost,
    duplicated,
    stuck: stuckJobs + stuckProducts,
    orphaned,
    deadWithoutReason,
    deadYetPushed,
    pushed: pushed?.n ?? 0,
    deadByReason,
    deadJobs,
    problems,
  };
}

/** The one summary line `npm run chaos` prints. */
export function summaryLine(c: ChaosCounts, settleS: number, faults: number): string {
  return `chaos: sent=${c.sent} completed=${c.completed} dead=${c.dead} lost=${c.lost} duplicated=${c.duplicated} stuck=${c.stuck} orphaned=${c.orphaned} settle=${settleS.toFixed(1)}s faults=${faults}`;
}
