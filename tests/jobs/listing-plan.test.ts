/**
 * The job listing (GET /v1/jobs) on 100,000 rows: every filter combination reads the
 * (status, type, created_at, id) index backwards and stops after a page, instead of sorting
 * the table; shown with EXPLAIN (ANALYZE, FORMAT JSON) on the real Postgres, by node type,
 * index name and rows actually read (counts, not timings). Pages are also checked against a
 * plain ORDER BY over the whole table, cursor included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobPageSql, listJobs } from "../../services/jobs/job-listing.js";
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from "../../services/jobs/types.js";
import { openTestDatabase } from "../helpers/db.js";

type Db = Awaited<ReturnType<typeof openTestDatabase>>;
let t: Db;
const ROWS = 100_000;
const INDEX = "jobs_status_type_created_at_id_idx";

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

function nodes(p: PlanNode): PlanNode[] {
  return [p, ...(p.Plans ?? []).flatMap(nodes)];
}

async function plan(text: string, values: unknown[]): Promise<PlanNode> {
  const r = await t.db.sql.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
  return r.rows[0]!["QUERY PLAN"][0].Plan;
}

beforeAll(async () => {
  t = await openTestDatabase();
  // Mostly completed jobs, as a table under retention holds, spread over 30 days.
  await t.db.sql.query(
    `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, published, created_at, updated_at)
     SELECT gen_random_uuid(), (ARRAY[${JOB_TYPES.map((x) => `'${x}'`).join(",")}]::"JobType"[])[1 + i % 5],
            (CASE WHEN i % 100 = 0 THEN 'dead' WHEN i % 50 = 1 THEN 'failed' WHEN i % 20 = 2 THEN 'pending' ELSE 'completed' END)::"JobStatus",
            '{}'::jsonb, 1, 6, true, c, c
     FROM generate_series(1, $1::int) AS i, LATERAL (SELECT now() - (i * interval '26 seconds') AS c) AS x`,
    [ROWS],
  );
  await t.db.sql.exec("ANALYZE jobs");
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const cases: { name: string; type?: JobType; status?: JobStatus; pairs: number }[] = [
  { name: "type and status", type: "image", status: "completed", pairs: 1 },
  { name: "a rare status and a type", type: "import", status: "dead", pairs: 1 },
  { name: "status only", status: "completed", pairs: JOB_TYPES.length },
  { name: "type only", type: "translation", pairs: JOB_STATUSES.length },
  { name: "no filter", pairs: JOB_TYPES.length * JOB_STATUSES.length },
];

describe("job listing on 100k rows", () => {
  it("has the rows", async () => {
    const r = await t.db.sql.query<{ n: string }>("SELECT count(*) AS n FROM jobs");
    expect(Number(r.rows[0]!.n)).toBe(ROWS);
  });

  for (const c of cases) {
    it(`${c.name}: reads ${INDEX} backwards, at most one page per (status, type) pair, no scan or sort of the table`, async () => {
      const limit = 50;
      const last = (await t.db.sql.query<{ id: string; created_at: Date }>(
        `SELECT id, created_at FROM jobs ${c.type || c.status ? "WHERE " : ""}${[c.type ? `type = '${c.type}'` : "", c.status ? `status = '${c.status}'` : ""].filter(Boolean).join(" AND ")} ORDER BY created_at DESC, id DESC OFFSET 500 LIMIT 1`,
      )).rows[0]!;
      for (const after of [undefined, { createdAt: new Date(last.created_at), id: last.id }]) {
        const { text, values } = jobPageSql({ type: c.type, status: c.status, limit }, after);
        const all = nodes(await plan(text, values));
        expect(all.filter((n) => n["Node Type"] === "Seq Scan")).toEqual([]);
        const scans = all.filter((n) => n["Node Type"] === "Index Scan" || n["Node Type"] === "Index Only Scan");
        expect(scans.length).toBe(c.pairs);
        for (const s of scans) expect(s["Index Name"]).toBe(INDEX);
        // Rows read from the index: one page (limit + 1) per pair at most, out of 100,000.
        const read = scans.reduce((sum, s) => sum + (s["Actual Rows"] ?? 0) * (s["Actual Loops"] ?? 1), 0);
        expect(read).toBeLessThanOrEqual(c.pairs * (limit + 1));
        // A single pair needs no sort at all; several are merged by sorting only their pages.
        const sorts = all.filter((n) => n["Node Type"] === "Sort");
        if (c.pairs === 1) expect(sorts).toEqual([]);
        else for (const s of sorts) expect((s.Plans ?? []).flatMap(nodes).reduce((m, n) => Math.max(m, n["Actual Rows"] ?? 0), 0)).toBeLessThanOrEqual(c.pairs * (limit + 1));
      }
    });
  }

  it("returns the same pages as ORDER BY over the whole table, following the cursor", async () => {
    for (const c of cases) {
      const where = [c.type ? `type = '${c.type}'` : "", c.status ? `status = '${c.status}'` : ""].filter(Boolean);
      const expected = (await t.db.sql.query<{ id: string }>(
        `SELECT id FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT 75`,
      )).rows.map((r) => r.id);
      const first = await listJobs(t.db, { type: c.type, status: c.status, limit: 30 });
      const second = await listJobs(t.db, { type: c.type, status: c.status, limit: 30, cursor: first.nextCursor });
      const third = await listJobs(t.db, { type: c.type, status: c.status, limit: 15, cursor: second.nextCursor });
      expect([...first.items, ...second.items, ...third.items].map((j) => j.id)).toEqual(expected);
      for (const j of first.items) {
        if (c.type) expect(j.type).toBe(c.type);
        if (c.status) expect(j.status).toBe(c.status);
      }
    }
  });
});
