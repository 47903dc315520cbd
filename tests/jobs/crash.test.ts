/**
 * A worker process killed mid-job (SIGKILL): the broker redelivers the message, another
 * worker completes the job, and the jobs table records it completed exactly once, with the
 * lost attempt counted.
 */
import { expect, it } from "vitest";
import type { HistoryEntry } from "../../services/jobs/job-store.js";
import { spawnWorker } from "./child.js";
import { useHarness, jobRow, waitFor } from "./helpers.js";

const h = useHarness("crash");

it("redelivers a job whose worker was SIGKILLed mid-handler and completes it exactly once", async () => {
  const producer = h.newEngine();
  await producer.start();
  const { jobId } = await producer.enqueue("import", { sleepMs: 60_000 });

  const child = spawnWorker({ DATABASE_URL: h.databaseUrl, JOBS_NAMESPACE: h.namespace });
  await child.waitForLine((l) => l === `started ${jobId} 1`);
  const during = await jobRow(h.db, jobId);
  expect(during.status).toBe("processing");
  expect(during.attempts).toBe(1);
  child.proc.kill("SIGKILL");
  expect((await child.exited).signal).toBe("SIGKILL");

  const runs: number[] = [];
  producer.register<{ sleepMs: number }>("import", async (_p, ctx) => {
    runs.push(ctx.attempt);
  });
  producer.startWorkers();
  const row = await waitFor("job completed", async () => {
    const r = await jobRow(h.db, jobId);
    return r.status === "completed" ? r : undefined;
  });
  // Give a duplicate delivery, if any, time to show up.
  await new Promise((r) => setTimeout(r, 300));
  expect(runs).toEqual([2]);
  expect(row.attempts).toBe(2);
  const history = row.history as HistoryEntry[];
  expect(history.filter((e) => e.outcome === "completed")).toHaveLength(1);
  expect(await h.db.prisma.job.count({ where: { id: jobId } })).toBe(1);
  expect(child.lines.filter((l) => l.startsWith("done"))).toEqual([]);
});

it("stops a crash loop: a redelivered job whose attempts are used up is dead-lettered without running", async () => {
  const engine = h.newEngine({ types: ["image"] });
  await engine.start();
  const { jobId } = await engine.enqueue("image", { crashes: "always" });
  // As if six workers had claimed it and died mid-job: attempts used up, still processing.
  await h.db.sql.query(`UPDATE jobs SET status = 'processing', attempts = max_attempts, started_at = now() WHERE id = $1`, [jobId]);
  // Take the message and drop the channel without an ack: the broker redelivers it, flagged.
  const ch = await h.broker.acquire();
  const got = await waitFor("message", () => ch.basicGet({ queue: `${h.namespace}jobs.image` }));
  expect(got.messageId).toBe(jobId);
  await ch.close();

  const runs: string[] = [];
  engine.register("image", async (_p, ctx) => void runs.push(ctx.jobId));
  engine.startWorkers();
  const row = await waitFor("dead", async () => {
    const r = await jobRow(h.db, jobId);
    return r.status === "dead" ? r : undefined;
  });
  expect(runs).toEqual([]);
  expect(row.attempts).toBe(7);
  expect(row.lastError).toMatch(/^out of attempts: 6 attempts started and none finished/);
  await engine.stop(1000);
});
