/**
 * jobs_oldest_waiting_seconds on the real Postgres: per job type, how long the oldest job that is
 * due to run has waited (pending since its last state change, failed since its retry became due);
 * 0 for a type with nothing waiting, no sample when the database cannot answer. The query reads
 * the (status, type) index, never the completed rows that make up the table.
 */
import { randomUUID } from "node:crypto";
import type { Connection } from "rabbitmq-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../services/db/client.js";
import type { Database } from "../../services/db/client.js";
import { engineMetrics, type MetricSources } from "../../services/jobs/engine-metrics.js";
import { DEFAULT_RETENTION } from "../../services/jobs/retention.js";
import { JobStore, OLDEST_WAITING_SQL } from "../../services/jobs/job-store.js";
import { JOB_TYPES } from "../../services/jobs/types.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { jobsOldestWaitingSeconds } from "../../services/metrics.js";
import { openTestDatabase } from "../helpers/db.js";
import { connect, metricValue } from "./helpers.js";

let t: Awaited<ReturnType<typeof openTestDatabase>>;
let broker: Connection;
const MINUTE = 60_000;
/** The moment every row's timestamps are written relative to. */
const now = new Date();
const ago = (minutes: number) => new Date(now.getTime() - minutes * MINUTE).toISOString();

async function job(type: string, status: string, times: { updated: string; runAt?: string; startedAt?: string }) {
  await t.db.sql.query(
    `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, published, run_at, started_at, created_at, updated_at)
     VALUES ($1, $2::"JobType", $3::"JobStatus", '{}', 1, 6, true, $4, $5, $6, $6)`,
    [randomUUID(), type, status, times.runAt ?? null, times.startedAt ?? null, times.updated],
  );
}

beforeAll(async () => {
  t = await openTestDatabase();
  broker = await connect();
  // import: two pending jobs, the older one waiting since 10 minutes ago.
  await job("import", "pending", { updated: ago(10) });
  await job("import", "pending", { updated: ago(3) });
  // translation: a failed job whose retry became due 20 minutes ago (it failed 25 minutes ago),
  // and one whose retry is not due yet: only the first is waiting.
  await job("translation", "failed", { updated: ago(25), runAt: ago(20) });
  await job("translation", "failed", { updated: ago(90), runAt: new Date(now.getTime() + 5 * MINUTE).toISOString() });
  // Nothing else waits: processing, completed and dead jobs are not waiting, however old.
  await job("image", "processing", { updated: ago(60), startedAt: ago(60) });
  await job("push", "completed", { updated: ago(600) });
  await job("source_check", "dead", { updated: ago(600) });
}, 60_000);

afterAll(async () => {
  await broker?.close();
  await t?.close();
});

/** What the engine hands its metrics: only the store matters here. */
const metricSources = (store: JobStore): MetricSources => ({
  broker,
  store,
  queues: () => [],
  retention: () => DEFAULT_RETENTION,
  types: JOB_TYPES,
  clock: () => new Date(),
  inFlight: () => [],
});

describe("the oldest waiting job", () => {
  it("is measured per type from when each job became due, and only for due pending or failed jobs", async () => {
    const ages = await new JobStore(t.db.sql).oldestWaitingSeconds(now);
    expect(Object.fromEntries(ages)).toEqual({ import: 600, translation: 1200 });
  });

  it("is a gauge per job type, 0 where nothing waits, read at scrape time", async () => {
    const metrics = new MetricsRegistry();
    engineMetrics(metrics, metricSources(new JobStore(t.db.sql)));
    const text = (await metrics.expose()).body;
    for (const type of JOB_TYPES) expect(text).toMatch(new RegExp(`^${jobsOldestWaitingSeconds.name}\\{type="${type}"\\} `, "m"));
    // Scraped a moment after `now`: at least the age at `now`, and less than a minute more.
    const importAge = await metricValue(metrics, jobsOldestWaitingSeconds.name, { type: "import" });
    expect(importAge).toBeGreaterThanOrEqual(600);
    expect(importAge).toBeLessThan(660);
    expect(await metricValue(metrics, jobsOldestWaitingSeconds.name, { type: "translation" })).toBeGreaterThanOrEqual(1200);
    for (const type of ["image", "push", "source_check"]) expect(await metricValue(metrics, jobsOldestWaitingSeconds.name, { type })).toBe(0);
  });

  it("has no sample when the database does not answer (an age that stopped growing would read as progress)", async () => {
    const db: Database = await openDatabase({ databaseUrl: t.testDb.url });
    const metrics = new MetricsRegistry();
    engineMetrics(metrics, metricSources(new JobStore(db.sql)));
    expect((await metrics.expose()).body).toMatch(new RegExp(`^${jobsOldestWaitingSeconds.name}\\{type="import"\\} `, "m"));
    await db.close();
    const after = (await metrics.expose()).body;
    expect(after).toContain(`# TYPE ${jobsOldestWaitingSeconds.name} gauge`);
    expect(after).not.toMatch(new RegExp(`^${jobsOldestWaitingSeconds.name}\\{`, "m"));
  });

  it("reads the (status, type) index, not the completed rows, on a table of completed jobs", async () => {
    await t.db.sql.query(
      `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, published, created_at, updated_at)
       SELECT gen_random_uuid(), 'import', 'completed', '{}', 1, 6, true, now() - interval '1 day', now() - interval '1 day' FROM generate_series(1, 20000)`,
    );
    await t.db.sql.query("ANALYZE jobs");
    const plan = await t.db.sql.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${OLDEST_WAITING_SQL}`, [now.toISOString()]);
    const text = JSON.stringify(plan.rows[0]?.["QUERY PLAN"]);
    // The index led by (status, type), whatever columns follow them.
    expect(text).toMatch(/"Index Name":"jobs_status_type_[a-z_]*idx"/);
    expect(text).not.toContain('"Seq Scan"');
    // And the answer is the same with the completed rows in the table.
    expect(Object.fromEntries(await new JobStore(t.db.sql).oldestWaitingSeconds(now))).toEqual({ import: 600, translation: 1200 });
  });
});
