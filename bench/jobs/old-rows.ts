/** The retention case's table: a million completed jobs, as 30 days of history leave them. */
import pg from "pg";
import { JOB_TYPES } from "../../services/jobs/types.js";
import type { TestDatabase } from "../../tests/helpers/db.js";

/**
 * SQL for a UUIDv7 of the instant `at` (services/ids.ts: 48 bits of milliseconds, version 7,
 * variant 10, then bits from md5 of `seed`): old rows carry the ids the engine would have given
 * them when they were created, so they sit where the engine's own rows sit in the primary key.
 */
const UUIDV7_AT = (at: string, seed: string) =>
  `(lpad(to_hex((extract(epoch FROM ${at}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${seed}::text), 1, 3) || '8' || substr(md5(${seed}::text), 4, 15))::uuid`;

/** Fills the jobs table with old completed rows, as 30 days of history would (all past retention). */
export async function fillOldRows(db: TestDatabase, rows: number, payload: { data: string }): Promise<void> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const types = JOB_TYPES.map((t) => `'${t}'`).join(",");
    const chunk = 200_000;
    for (let from = 0; from < rows; from += chunk) {
      await c.query(
        `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, published, history, started_at, finished_at, duration_ms, created_at, updated_at)
         SELECT ${UUIDV7_AT("t", "i")}, (ARRAY[${types}]::"JobType"[])[1 + i % 5], 'completed', '${JSON.stringify(payload)}'::jsonb, 1, 6, true,
                jsonb_build_array(jsonb_build_object('attempt', 1, 'outcome', 'completed', 'startedAt', t, 'finishedAt', t, 'durationMs', 3)),
                t, t, 3, t, t
         FROM generate_series($1::int, $2::int) AS i, LATERAL (SELECT now() - interval '30 days' + i * (interval '22 days' / $3::int) AS t) AS ts`,
        [from, Math.min(rows, from + chunk) - 1, rows],
      );
    }
    await c.query("VACUUM ANALYZE jobs"); // as autovacuum would have (it is off on the shared test server)
  } finally {
    await c.end();
  }
}
