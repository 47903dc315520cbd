/**
 * Graceful shutdown (SIGTERM to a worker process): it stops consuming, lets running handlers
 * finish within the deadline, releases the rest (back to pending, message requeued) and exits
 * 0. Nothing is lost and nothing is left `processing`.
 */
import { expect, it } from "vitest";
import type { HistoryEntry } from "../../services/jobs/job-store.js";
import { spawnWorker } from "./child.js";
import { useHarness, jobRow, waitFor } from "./helpers.js";

const h = useHarness("shutdown");

async function statusCounts(ids: string[]): Promise<Record<string, number>> {
  const rows = await h.db.prisma.job.groupBy({ by: ["status"], where: { id: { in: ids } }, _count: true });
  return Object.fromEntries(rows.map((r) => [r.status, r._count]));
}

it("on SIGTERM finishes running jobs, releases claimed ones, exits 0; another worker completes the rest once", async () => {
  const producer = h.newEngine();
  await producer.start();
  const { jobIds } = await producer.enqueueMany(Array.from({ length: 12 }, () => ({ type: "import" as const, payload: { sleepMs: 400 } })));

  const child = spawnWorker({ DATABASE_URL: h.databaseUrl, JOBS_NAMESPACE: h.namespace, CONCURRENCY: "4", STOP_DEADLINE_MS: "3000" });
  await waitFor("4 running", () => child.lines.filter((l) => l.startsWith("started")).length >= 4);
  child.proc.kill("SIGTERM");
  const exit = await child.exited;
  expect(exit.code).toBe(0);
  expect(child.lines).toContain("stopped");

  const done = child.lines.filter((l) => l.startsWith("done ")).map((l) => l.split(" ")[1]!);
  const started = child.lines.filter((l) => l.startsWith("started ")).map((l) => l.split(" ")[1]!);
  expect(done.sort()).toEqual([...new Set(started)].sort()); // every started job finished within the deadline
  const counts = await statusCounts(jobIds);
  expect(counts.processing ?? 0).toBe(0);
  expect(counts.completed).toBe(done.length);
  expect(counts.pending).toBe(12 - done.length);

  const runs: string[] = [];
  producer.register<{ sleepMs: number }>("import", async (_p, ctx) => {
    runs.push(ctx.jobId);
  });
  producer.startWorkers();
  await waitFor("all completed", async () => (await statusCounts(jobIds)).completed === 12);
  expect(runs.sort()).toEqual(jobIds.filter((id) => !done.includes(id)).sort());
  await producer.stop(1000);
});

it("a handler still running at the deadline is aborted and released: pending again, attempt given back", async () => {
  const producer = h.newEngine();
  await producer.start();
  const { jobId } = await producer.enqueue("import", { sleepMs: 30_000, stubborn: true });
  const child = spawnWorker({ DATABASE_URL: h.databaseUrl, JOBS_NAMESPACE: h.namespace, STOP_DEADLINE_MS: "500" });
  await child.waitForLine((l) => l.startsWith(`started ${jobId}`));
  const t0 = Date.now();
  child.proc.kill("SIGTERM");
  expect((await child.exited).code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(5000);
  const row = await jobRow(h.db, jobId);
  expect(row.status).toBe("pending");
  expect(row.attempts).toBe(0);
  expect((row.history as HistoryEntry[]).map((e) => e.event)).toEqual(["released"]);

  producer.register("import", async () => undefined);
  producer.startWorkers();
  const done = await waitFor("completed", async () => {
    const r = await jobRow(h.db, jobId);
    return r.status === "completed" ? r : undefined;
  });
  expect(done.attempts).toBe(1);
});
