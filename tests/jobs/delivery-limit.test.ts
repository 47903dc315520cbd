/**
 * The broker's backstop: a poison message that kills its consumer before the engine can claim
 * it (so the engine never counts an attempt) is redelivered until the quorum queue's
 * x-delivery-limit is exceeded; RabbitMQ then dead-letters it to the type's dead queue, and
 * the engine records the job `dead` with the reason, without ever running its handler.
 */
import { expect, it } from "vitest";
import { deadLetterQueue, workQueue } from "../../services/jobs/topology.js";
import type { HistoryEntry } from "../../services/jobs/job-store.js";
import { spawnWorker } from "./child.js";
import { useHarness, jobRow, metricValue, waitFor } from "./helpers.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";

const h = useHarness("dlimit");

const LIMIT = 2;

async function depth(queue: string): Promise<number> {
  return (await h.broker.queueDeclare({ queue, passive: true })).messageCount;
}

it("a message that crashes every consumer before its claim ends in the DLQ, and the job is dead with the reason", async () => {
  const metrics = new MetricsRegistry();
  const engine = h.newEngine({ deliveryLimit: LIMIT }, { metrics });
  await engine.start(); // declares the work queue with x-delivery-limit = LIMIT
  const { jobId } = await engine.enqueue("import", { poison: "decoder-killer" });
  await waitFor("published", async () => (await jobRow(h.db, jobId)).published);

  // Each worker process dies while decoding the message, before the engine sees it.
  let crashes = 0;
  for (let i = 0; i < LIMIT + 3 && (await depth(deadLetterQueue("import", h.namespace))) === 0; i++) {
    const child = spawnWorker({ DATABASE_URL: h.databaseUrl, JOBS_NAMESPACE: h.namespace, CRASH_ON: "decoder-killer", DELIVERY_LIMIT: String(LIMIT) });
    const exit = await child.exited;
    expect(exit.signal).toBe("SIGKILL");
    crashes++;
    const row = await jobRow(h.db, jobId);
    expect([row.status, row.attempts]).toEqual(["pending", 0]); // never claimed: the engine counted nothing
    // The broker returns the message once it sees the connection gone (or dead-letters it).
    let seen = "";
    await waitFor(`the message back in a queue after crash ${crashes}`, async () => {
      const [w, d] = [await depth(workQueue("import", h.namespace)), await depth(deadLetterQueue("import", h.namespace))];
      seen = `work ${w}, dead ${d}`;
      return w + d === 1;
    }, 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message} (last seen: ${seen})`);
    });
  }
  // Delivered LIMIT + 1 times (the first delivery and LIMIT redeliveries), then dead-lettered.
  expect(crashes).toBe(LIMIT + 1);
  expect(await depth(deadLetterQueue("import", h.namespace))).toBe(1);
  expect(await depth(workQueue("import", h.namespace))).toBe(0);

  // A healthy engine drains the broker's dead letters into the table.
  const runs: string[] = [];
  engine.register("import", async (_p, ctx) => void runs.push(ctx.jobId));
  engine.startWorkers();
  const row = await waitFor("dead", async () => {
    const r = await jobRow(h.db, jobId);
    return r.status === "dead" ? r : undefined;
  });
  expect(row.lastError).toBe("delivery limit exceeded: the broker dead-lettered the message (delivery_limit)");
  expect(row.deadAt).not.toBeNull();
  expect((row.history as HistoryEntry[]).at(-1)).toMatchObject({ outcome: "dead", error: row.lastError });
  expect(runs).toEqual([]);
  expect(await metricValue(metrics, "jobs_dead_lettered_total", { type: "import" })).toBe(1);
  await waitFor("dead queue drained", async () => (await depth(deadLetterQueue("import", h.namespace))) === 0);
  await engine.stop(1000);
}, 90_000);
