/**
 * The job listing (GET /v1/jobs): newest first, filtered by type and/or status, with a cursor.
 * It reads the jobs table's one secondary index, (status, type, created_at, id), in order:
 * each (status, type) pair the filter allows is one backward range scan that stops after a
 * page, so a page costs at most pairs x (limit + 1) index entries whatever the table holds
 * (one pair with both filters, five with one, twenty-five with none), and never a sort of the
 * table. The rows of the page are then loaded by primary key.
 */
import type { Database } from "../db/client.js";
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from "./types.js";

export interface JobListQuery {
  type?: JobType;
  status?: JobStatus;
  limit: number;
  /** The id of the last job of the previous page. */
  cursor?: string;
}

/** The SQL of one page of ids, and its parameters (exported for the query-plan test). */
export function jobPageSql(q: Pick<JobListQuery, "type" | "status" | "limit">, after?: { createdAt: Date; id: string }): { text: string; values: unknown[] } {
  const statuses = q.status ? [q.status] : JOB_STATUSES;
  const types = q.type ? [q.type] : JOB_TYPES;
  const values: unknown[] = [q.limit + 1];
  let cursor = "";
  if (after) {
    values.push(after.createdAt.toISOString(), after.id);
    cursor = ` AND (created_at, id) < ($2::timestamptz, $3::uuid)`;
  }
  const branches: string[] = [];
  for (const s of statuses) {
    for (const t of types) {
      // Literals from the closed enums above, never from input.
      branches.push(`(SELECT id, created_at FROM jobs WHERE status = '${s}' AND type = '${t}'${cursor} ORDER BY created_at DESC, id DESC LIMIT $1)`);
    }
  }
  const text =
    branches.length === 1
      ? branches[0]!.slice(1, -1)
      : `SELECT id, created_at FROM (${branches.join(" UNION ALL ")}) AS page ORDER BY created_at DESC, id DESC LIMIT $1`;
  return { text, values };
}

export async function listJobs(db: Database, q: JobListQuery) {
  let after: { createdAt: Date; id: string } | undefined;
  if (q.cursor) {
    const c = await db.sql.query<{ created_at: Date | string }>(`SELECT created_at FROM jobs WHERE id = $1::uuid`, [q.cursor]);
    // The cursor's job is gone (removed by retention, or archived): there is no "after it".
    if (!c.rows[0]) return { items: [], nextCursor: undefined };
    after = { createdAt: new Date(c.rows[0].created_at), id: q.cursor };
  }
  const { text, values } = jobPageSql(q, after);
  const ids = (await db.sql.query<{ id: string }>(text, values)).rows.map((r) => r.id);
  const rows = ids.length > 0 ? await db.prisma.job.findMany({ where: { id: { in: ids } } }) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = ids.map((id) => byId.get(id)).filter((r) => r !== undefined);
  const items = ordered.slice(0, q.limit);
  return { items, nextCursor: ordered.length > q.limit ? items[items.length - 1]?.id : undefined };
}
