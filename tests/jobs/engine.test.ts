/**
 * The engine against the real RabbitMQ and Postgres: success, a transient failure, a poison
 * job with doubling retry gaps, permanent errors, dead-letter retry, idempotent enqueue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermanentJobError, type JobContext } from "../../services/jobs/types.js";
import type { JobEngine } from "../../services/jobs/engine.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { harness, jobRow, metricValue, waitFor, type Harness } from "./helpers.js";
import type { HistoryEntry } from "../../services/jobs/job-store.js";

let h: Harness;
let engine: JobEngine;
const metrics = new MetricsRegistry();
/** Handler behaviour per payload.kind, and the calls seen. */
const calls = new Map<string, { attempt: number; at: number; ctx: JobContext }[]>();

beforeAll(async () => {
  h = await harness("engine");
  engine = h.newEngine({}, { metrics });
  await engine.start();
  engine.register<{ kind: string; failUntil?: number }>("import", async (payload, ctx) => {
    const list = calls.get(ctx.jobId) ?? [];
    list.push({ attempt: ctx.attempt, at: performance.now(), ctx });
    calls.set(ctx.jobId, list);
    if (payload.kind === "ok") return;
    if (payload.kind === "transient" && ctx.attempt < (payload.failUntil ?? 0)) throw new Error(`flaky upstream (attempt ${ctx.attempt})`);
    if (payload.kind === "transient") return;
    if (payload.kind === "poison") throw new Error(`poison ${ctx.attempt}`);
    if (payload.kind === "corrupt") throw new PermanentJobError("corrupt image");
    if (payload.kind === "dlq-retry" && !recovered) throw new Error("still broken");
  });
  engine.register<{ hangOnFirst: boolean }>(
    "image",
    async (_p, ctx) => {
      if (ctx.attempt > 1) return;
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      timedOutSignals.push(ctx.signal.reason as Error);
      await new Promise(() => undefined); // keeps hanging even after the abort
    },
    { timeoutMs: 150 },
  );
  engine.startWorkers();
});

const timedOutSignals: Error[] = [];

let recovered = false;

afterAll(async () => {
  await h?.close();
});

async function settled(id: string, status: "completed" | "dead") {
  return waitFor(`job ${id} ${status}`, async () => {
    const row = await jobRow(h.db, id);
    return row.status === status ? row : undefined;
  });
}

describe("job engine", () => {
  it("runs a job once, records it completed with timing, and acks it", async () => {
    const { jobId } = await engine.enqueue("import", { kind: "ok" }, { requestId: "req-1" });
    const row = await settled(jobId, "completed");
    expect(row.attempts).toBe(1);
    expect(row.requestId).toBe("req-1");
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(row.finishedAt).not.toBeNull();
    expect(row.published).toBe(true);
    expect(calls.get(jobId)).toHaveLength(1);
    expect(calls.get(jobId)![0]!.ctx).toMatchObject({ jobId, type: "import", attempt: 1, requestId: "req-1" });
    expect((row.history as HistoryEntry[]).map((e) => e.outcome)).toEqual(["completed"]);
    expect(await metricValue(metrics, "jobs_completed_total", { type: "import" })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, "jobs_started_total", { type: "import" })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, "worker_concurrency", { type: "import" })).toBe(4);
    expect(await metricValue(metrics, "worker_busy_seconds_total", { type: "import" })).toBeGreaterThan(0);
    expect(await metricValue(metrics, "job_processing_duration_seconds_count", { type: "import", outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, "jobs_in_flight", { type: "import" })).toBe(0);
  });

  it("retries a transient failure and succeeds on attempt 3", async () => {
    const { jobId } = await engine.enqueue("import", { kind: "transient", failUntil: 3 });
    const row = await settled(jobId, "completed");
    expect(row.attempts).toBe(3);
    expect(calls.get(jobId)!.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const history = row.history as HistoryEntry[];
    expect(history.map((e) => e.outcome)).toEqual(["failed", "failed", "completed"]);
    expect(history[0]!.error).toBe("flaky upstream (attempt 1)");
    expect(row.lastError).toBe("flaky upstream (attempt 2)");
    expect(await metricValue(metrics, "jobs_retries_total", { type: "import", attempt: "2" })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, "jobs_retries_total", { type: "import", attempt: "3" })).toBeGreaterThanOrEqual(1);
  });

  it("retries a poison job exactly 5 times with doubling delays, then dead-letters it with every error", async () => {
    const { jobId } = await engine.enqueue("import", { kind: "poison" });
    const row = await settled(jobId, "dead");
    const seen = calls.get(jobId)!;
    expect(seen.map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(row.attempts).toBe(6);
    expect(row.deadAt).not.toBeNull();
    expect(row.lastError).toBe("poison 6");
    expect(row.lastErrorStack).toContain("poison 6");
    expect(row.payload).toEqual({ kind: "poison" });
    const history = row.history as HistoryEntry[];
    expect(history.map((e) => e.error)).toEqual(["poison 1", "poison 2", "poison 3", "poison 4", "poison 5", "poison 6"]);
    expect(history.map((e) => e.outcome)).toEqual(["failed", "failed", "failed", "failed", "failed", "dead"]);
    for (const e of history) expect(e.startedAt && e.finishedAt && typeof e.durationMs === "number").toBeTruthy();
    const expected = [50, 100, 200, 400, 800];
    // Base 50 ms: gaps of 50, 100, 200, 400, 800 ms. Lower bound is the TTL; upper is tolerant.
    const gaps = seen.slice(1).map((c, i) => c.at - seen[i]!.at);
    process.stdout.write(`retry gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(", ")}\n`);
    // Each gap is at least its level's delay (the delay queue's TTL), so the last gap really
    // waited 16x the first; the upper bound tolerates broker and CI jitter.
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(expected[i]! - 5);
      expect(g).toBeLessThan(expected[i]! + 1000);
    });
    // The delays the engine scheduled, from the history: exactly 50, 100, 200, 400, 800 ms.
    const scheduled = history.slice(0, 5).map((e) => Date.parse(e.retryAt as string) - Date.parse(e.finishedAt!));
    expect(scheduled).toEqual(expected);
    expect(await metricValue(metrics, "jobs_dead_lettered_total", { type: "import" })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metrics, "jobs_dead_letter_size", { type: "import" })).toBeGreaterThanOrEqual(1);
  });

  it("sends a PermanentJobError straight to dead without retrying", async () => {
    const { jobId } = await engine.enqueue("import", { kind: "corrupt" });
    const row = await settled(jobId, "dead");
    expect(row.attempts).toBe(1);
    expect(row.lastError).toBe("corrupt image");
    expect(calls.get(jobId)).toHaveLength(1);
  });

  it("times a hung handler out (its signal aborts), records the timeout and retries it", async () => {
    const { jobId } = await engine.enqueue("image", { hangOnFirst: true });
    const row = await settled(jobId, "completed");
    expect(row.attempts).toBe(2);
    const history = row.history as HistoryEntry[];
    expect(history[0]).toMatchObject({ attempt: 1, outcome: "failed", error: "job timed out after 150 ms" });
    expect(history[0]!.durationMs).toBeGreaterThanOrEqual(140);
    expect(timedOutSignals.map((e) => e.name)).toEqual(["JobTimeoutError"]);
  });

  it("enqueue with a caller-chosen jobId is idempotent", async () => {
    const id = "7d1f3a52-8a7e-4d0e-9c55-2f7b3c7f0a11";
    await engine.enqueue("import", { kind: "ok" }, { jobId: id });
    await engine.enqueue("import", { kind: "ok" }, { jobId: id });
    await settled(id, "completed");
    await new Promise((r) => setTimeout(r, 200));
    expect(calls.get(id)).toHaveLength(1);
    expect(await h.db.prisma.job.count({ where: { id } })).toBe(1);
  });

  it("enqueueMany writes a batch and every job completes", async () => {
    const { jobIds } = await engine.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: "import" as const, payload: { kind: "ok", i } })));
    expect(new Set(jobIds).size).toBe(50);
    await waitFor("50 completed", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "completed" } })) === 50);
  });

  it("reports queue depth from the broker at scrape time", async () => {
    await metricValue(metrics, "jobs_queue_depth");
    const json = await metrics.registry.getMetricsAsJSON();
    const depth = json.find((m) => m.name === "jobs_queue_depth")!;
    const queues = (depth.values as { labels: Record<string, string> }[]).map((v) => v.labels.queue);
    expect(queues).toContain(`${h.namespace}jobs.import`);
    expect(queues).toContain(`${h.namespace}jobs.import.retry.800ms`);
  });

  it("a dead job retried from the DLQ keeps its history and succeeds", async () => {
    recovered = false;
    const { jobId } = await engine.enqueue("import", { kind: "dlq-retry" });
    await settled(jobId, "dead");
    recovered = true;
    const ids = await import("../../services/jobs/job-queries.js").then((q) => q.resetDeadJobs(h.db, { ids: [jobId], limit: 10, actor: "test" }, new Date()));
    expect(ids).toEqual([jobId]);
    expect(await engine.publishPending(ids)).toBe(1);
    const row = await settled(jobId, "completed");
    expect(row.attempts).toBe(1);
    const history = row.history as HistoryEntry[];
    expect(history.filter((e) => e.outcome === "failed" || e.outcome === "dead")).toHaveLength(6);
    expect(history.some((e) => e.event === "retried-from-dead")).toBe(true);
    expect(history.at(-1)!.outcome).toBe("completed");
  });
});
