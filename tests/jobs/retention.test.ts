/**
 * Completed-job retention: the scheduler removes completed jobs once their type's retention
 * has passed (JOB_RETENTION_DAYS, JOB_RETENTION_DAYS_BY_TYPE), in batches of
 * JOB_RETENTION_BATCH, never a dead or failed one; rows another transaction holds are skipped,
 * not waited for; the metrics count removed rows, show how far behind retention is, and the
 * table's size. Time moves through an injected clock.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/config.js";
import { removeCompletedJobs, retentionPolicy } from "../../services/jobs/retention.js";
import { DAY_MS } from "../../services/jobs/schedulers.js";
import { createJobSystem } from "../../services/jobs/system.js";
import { PermanentJobError } from "../../services/jobs/types.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { useHarness, jobRow, metricValue, testEngineConfig, waitFor } from "./helpers.js";

const h = useHarness("retention");

describe("retention settings", () => {
  it("defaults: completed jobs kept 7 days, checked every minute, 1,000 rows per DELETE", () => {
    const c = loadConfig({});
    expect(retentionPolicy(c)).toEqual({ defaultDays: 7, byType: {}, batch: 1000 });
    expect(c.JOB_RETENTION_INTERVAL_MS).toBe(60_000);
  });

  it("takes per-type retention and names the key of a bad value", () => {
    expect(loadConfig({ JOB_RETENTION_DAYS_BY_TYPE: "image=3, push=30" }).JOB_RETENTION_DAYS_BY_TYPE).toEqual({ image: 3, push: 30 });
    expect(() => loadConfig({ JOB_RETENTION_DAYS_BY_TYPE: "images=3" })).toThrow(ConfigError);
    expect(() => loadConfig({ JOB_RETENTION_DAYS_BY_TYPE: "image=0" })).toThrow(/JOB_RETENTION_DAYS_BY_TYPE/);
    expect(() => loadConfig({ JOB_RETENTION_DAYS: "-1" })).toThrow(/JOB_RETENTION_DAYS/);
  });
});

it("removes completed jobs past their type's retention on the schedule, in batches, and never a dead or failed one", async () => {
  const realNow = Date.now();
  let now = new Date(realNow);
  const metrics = new MetricsRegistry();
  const system = createJobSystem({
    config: loadConfig({
      JOB_RETENTION_INTERVAL_MS: "50",
      JOB_RETENTION_BATCH: "2",
      JOB_RETENTION_DAYS_BY_TYPE: "image=30",
      DEAD_JOB_ARCHIVE_INTERVAL_MS: "3600000",
      JOB_STUCK_CHECK_INTERVAL_MS: "3600000",
    }),
    db: h.db,
    broker: h.broker,
    logger: h.logger,
    metrics,
    clock: () => now,
    engineConfig: testEngineConfig(h.namespace),
  });
  await system.start();
  try {
    await retentionScenario(system, metrics, realNow, (d) => (now = d));
  } finally {
    await system.stop(1000);
  }
});

async function retentionScenario(system: ReturnType<typeof createJobSystem>, metrics: MetricsRegistry, realNow: number, setNow: (d: Date) => void) {
  const now = new Date(realNow);
  system.engine.register<{ fail?: boolean }>("import", async (p) => {
    if (p.fail) throw new PermanentJobError("broken input");
  });
  system.engine.register("image", async () => undefined);
  system.engine.startWorkers();
  const { jobIds: imports } = await system.engine.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: "import" as const, payload: { i } })));
  const { jobIds: images } = await system.engine.enqueueMany([{ type: "image", payload: {} }]);
  const { jobIds: deadIds } = await system.engine.enqueueMany([{ type: "import", payload: { fail: true } }]);
  await waitFor("all settled", async () => (await h.db.prisma.job.count({ where: { status: { in: ["completed", "dead"] } } })) === 7);
  // A job waiting for its retry (its message sits in a delay queue): `failed` until it runs again.
  const failedIds = ["0b9f3c2e-6a1d-4c8e-9f7a-2d5e8b1c4a30"];
  await system.engine.store.insert([{ id: failedIds[0]!, type: "import", payload: {}, maxAttempts: 6 }], now);
  await h.db.sql.query(`UPDATE jobs SET status = 'failed', attempts = 1, published = true, finished_at = $2, run_at = now() + interval '1 hour' WHERE id = $1`, [failedIds[0], now.toISOString()]);

  system.startSchedulers();
  setNow(new Date(realNow + 6 * DAY_MS));
  await new Promise((r) => setTimeout(r, 300)); // several passes: nothing is 7 days old yet
  expect(await h.db.prisma.job.count({ where: { id: { in: imports } } })).toBe(5);
  expect(await metricValue(metrics, "jobs_retention_overdue_seconds", { type: "import" })).toBe(0);

  setNow(new Date(realNow + 8 * DAY_MS));
  // Before the next pass: a day past the 7-day retention (within the slack of this test's timing).
  const overdue = await metricValue(metrics, "jobs_retention_overdue_seconds", { type: "import" });
  expect(overdue === 0 || (overdue > 0.9 * 86_400 && overdue <= 86_400)).toBe(true);
  await waitFor("completed imports removed", async () => (await h.db.prisma.job.count({ where: { id: { in: imports } } })) === 0);
  expect(await metricValue(metrics, "jobs_retention_removed_total", { type: "import" })).toBe(5);
  expect(await metricValue(metrics, "jobs_retention_overdue_seconds", { type: "import" })).toBe(0);
  // image keeps 30 days; the dead job waits for its archiver (never deleted); the failed one retries.
  expect(await h.db.prisma.job.count({ where: { id: { in: images } } })).toBe(1);
  expect((await jobRow(h.db, deadIds[0]!)).status).toBe("dead");
  expect((await jobRow(h.db, failedIds[0]!)).status).toBe("failed");
  expect(await metricValue(metrics, "jobs_table_bytes")).toBeGreaterThan(8192);

  setNow(new Date(realNow + 31 * DAY_MS));
  await waitFor("image removed after 30 days", async () => (await h.db.prisma.job.count({ where: { id: { in: images } } })) === 0);
  expect((await jobRow(h.db, deadIds[0]!)).status).toBe("dead");
  expect((await jobRow(h.db, failedIds[0]!)).status).toBe("failed");
}

it("removes in batches of the configured size and skips rows another transaction holds instead of waiting", async () => {
  const store = h.newEngine().store;
  await h.db.sql.query(
    `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, published, created_at, updated_at, finished_at)
     SELECT gen_random_uuid(), 'push', 'completed', '{}', 1, 6, true, now() - interval '20 days', now() - interval '20 days', now() - interval '20 days'
     FROM generate_series(1, 25)`,
  );
  const held = (await h.db.sql.query<{ id: string }>(`SELECT id FROM jobs WHERE type = 'push' AND status = 'completed' ORDER BY created_at LIMIT 1`)).rows[0]!.id;
  const other = new pg.Client({ connectionString: h.databaseUrl });
  await other.connect();
  try {
    await other.query("BEGIN");
    await other.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [held]);
    const pass = await removeCompletedJobs(store, { defaultDays: 7, byType: {}, batch: 10 }, new Date(), { types: ["push"], maxBatchesPerType: 100 });
    expect(pass.removed.push).toBe(24);
    expect(pass.batches).toBe(3); // 10 + 10 + 4: every DELETE bounded by the batch size
    expect(pass.caughtUp).toBe(true);
    expect(await h.db.prisma.job.count({ where: { type: "push" } })).toBe(1);
  } finally {
    await other.query("ROLLBACK");
    await other.end();
  }
  const bounded = await removeCompletedJobs(store, { defaultDays: 7, byType: {}, batch: 10 }, new Date(), { types: ["push"], maxBatchesPerType: 0 });
  expect(bounded.caughtUp).toBe(false);
  expect((await removeCompletedJobs(store, { defaultDays: 7, byType: {}, batch: 10 }, new Date(), { types: ["push"] })).removed.push).toBe(1);
});
