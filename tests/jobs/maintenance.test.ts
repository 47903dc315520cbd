/**
 * Scheduled maintenance: dead jobs older than the retention are archived (moved to
 * archived_jobs with everything they had, never deleted) on the configured schedule, using
 * an injected clock; stuck `processing` jobs are detected, counted and requeued or failed.
 */
import { expect, it } from "vitest";
import { loadConfig } from "../../services/config.js";
import { createJobSystem } from "../../services/jobs/system.js";
import { DAY_MS } from "../../services/jobs/schedulers.js";
import { PermanentJobError } from "../../services/jobs/types.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { useHarness, jobRow, metricValue, testEngineConfig, waitFor } from "./helpers.js";

const h = useHarness("maint");

it("production defaults: archive dead jobs after 30 days, checked hourly", () => {
  const c = loadConfig({});
  expect(c.DEAD_JOB_RETENTION_DAYS).toBe(30);
  expect(c.DEAD_JOB_ARCHIVE_INTERVAL_MS).toBe(3_600_000);
});

it("archives dead jobs older than DEAD_JOB_RETENTION_DAYS on the DEAD_JOB_ARCHIVE_INTERVAL_MS schedule, never deleting them", async () => {
  const realNow = Date.now();
  let now = new Date(realNow);
  const metrics = new MetricsRegistry();
  const system = createJobSystem({
    config: loadConfig({ DEAD_JOB_ARCHIVE_INTERVAL_MS: "50", DEAD_JOB_RETENTION_DAYS: "30", JOB_STUCK_CHECK_INTERVAL_MS: "3600000" }),
    db: h.db,
    broker: h.broker,
    logger: h.logger,
    metrics,
    clock: () => now,
    engineConfig: testEngineConfig(h.namespace),
  });
  await system.start();
  system.engine.register("import", async () => {
    throw new PermanentJobError("corrupt input");
  });
  system.engine.startWorkers();
  const { jobIds } = await system.engine.enqueueMany([
    { type: "import", payload: { n: "old" } },
    { type: "import", payload: { n: "recent" } },
  ]);
  const [oldId, recentId] = jobIds as [string, string];
  await waitFor("both dead", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "dead" } })) === 2);
  // "recent" died 2 days after "old".
  await h.db.sql.query(`UPDATE jobs SET dead_at = $2 WHERE id = $1`, [recentId, new Date(realNow + 2 * DAY_MS).toISOString()]);
  const before = await jobRow(h.db, oldId);

  system.startSchedulers();
  now = new Date(realNow + 29 * DAY_MS);
  await new Promise((r) => setTimeout(r, 300)); // several runs: nothing is 30 days dead yet
  expect(await h.db.prisma.archivedJob.count()).toBe(0);

  now = new Date(realNow + 31 * DAY_MS); // old: 31 days dead; recent: 29
  const archived = await waitFor("old archived", () => h.db.prisma.archivedJob.findUnique({ where: { id: oldId } }));
  expect(archived).toMatchObject({ type: "import", status: "dead", payload: { n: "old" }, attempts: 1, lastError: "corrupt input", history: before.history });
  expect(archived!.archivedAt.getTime()).toBe(now.getTime());
  expect(await h.db.prisma.job.findUnique({ where: { id: oldId } })).toBeNull();
  expect((await jobRow(h.db, recentId)).status).toBe("dead");
  expect(await metricValue(metrics, "jobs_archived_total")).toBe(1);

  now = new Date(realNow + 33 * DAY_MS);
  await waitFor("recent archived", () => h.db.prisma.archivedJob.findUnique({ where: { id: recentId } }));
  expect(await h.db.prisma.archivedJob.count({ where: { id: { in: jobIds } } })).toBe(2);
  await system.stop(1000);
});

it("detects stuck processing jobs: requeues those with attempts left, fails those without", async () => {
  const metrics = new MetricsRegistry();
  const engine = h.newEngine({ types: ["image"], timeoutMs: 1000, stuckGraceMs: 0 }, { metrics });
  await engine.start();
  const { jobIds } = await engine.enqueueMany([
    { type: "image", payload: { n: 1 } },
    { type: "image", payload: { n: 2 } },
  ]);
  const [requeueId, deadId] = jobIds as [string, string];
  // As if a worker claimed them 2 s ago and hung (its message still unacked somewhere).
  const twoSecondsAgo = new Date(Date.now() - 2000).toISOString();
  await h.db.sql.query(`UPDATE jobs SET status = 'processing', attempts = 1, started_at = $2 WHERE id = $1`, [requeueId, twoSecondsAgo]);
  await h.db.sql.query(`UPDATE jobs SET status = 'processing', attempts = max_attempts, started_at = $2 WHERE id = $1`, [deadId, twoSecondsAgo]);
  // Drain the original messages so only the requeue can deliver the job again.
  await h.broker.queuePurge({ queue: `${h.namespace}jobs.image` });

  expect(await engine.recoverStuckJobs()).toEqual({ requeued: 1, dead: 1 });
  expect(await metricValue(metrics, "jobs_stuck_detected_total", { type: "image", action: "requeued" })).toBe(1);
  expect(await metricValue(metrics, "jobs_stuck_detected_total", { type: "image", action: "failed" })).toBe(1);
  const dead = await jobRow(h.db, deadId);
  expect(dead.status).toBe("dead");
  expect(dead.lastError).toMatch(/^stuck/);

  const runs: number[] = [];
  engine.register("image", async (_p, ctx) => void runs.push(ctx.attempt));
  engine.startWorkers();
  const done = await waitFor("requeued job completed", async () => {
    const r = await jobRow(h.db, requeueId);
    return r.status === "completed" ? r : undefined;
  });
  expect(runs).toEqual([2]);
  expect(done.attempts).toBe(2);
  expect(await engine.recoverStuckJobs()).toEqual({ requeued: 0, dead: 0 });
});
