/**
 * Broker outages, through a TCP proxy that cuts only this test's connections: a connection
 * dropped mid-run loses nothing, and jobs enqueued while the broker is unreachable wait in
 * the outbox (pending, unpublished) and are published once it is back.
 */
import { Connection } from "rabbitmq-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { harness, metricValue, waitFor, type Harness } from "./helpers.js";
import { TcpProxy } from "./tcp-proxy.js";

let h: Harness;
let proxy: TcpProxy;
let broker: Connection;

beforeAll(async () => {
  h = await harness("outage");
  proxy = new TcpProxy("127.0.0.1", 5672);
  await proxy.listen();
  broker = new Connection({ url: proxy.url, connectionName: "jobs-test-outage", retryLow: 100, retryHigh: 500, acquireTimeout: 2000 });
  broker.on("error", () => undefined);
  await broker.onConnect(5000);
});
afterAll(async () => {
  await broker?.close();
  await proxy?.close();
  await h?.close();
});

async function completed(ids: string[]): Promise<number> {
  return h.db.prisma.job.count({ where: { id: { in: ids }, status: "completed" } });
}

it("loses nothing when the broker connection drops mid-run", async () => {
  const engine = h.newEngine({ concurrency: 8, publishTimeoutMs: 1000 }, { broker });
  await engine.start();
  const runs = new Map<string, number>();
  engine.register("import", async (_p, ctx) => {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 5));
  });
  const { jobIds } = await engine.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ type: "import" as const, payload: { i } })));
  engine.startWorkers();
  await waitFor("some progress", async () => (await completed(jobIds)) >= 50);
  proxy.dropConnections();
  await waitFor("broker down", () => !broker.ready, 5000, 5);
  await waitFor("all 300 completed", async () => (await completed(jobIds)) === 300, 30_000, 100);
  expect(runs.size).toBe(300);
  const rows = await h.db.prisma.job.findMany({ where: { id: { in: jobIds } }, select: { history: true } });
  for (const r of rows) expect((r.history as { outcome?: string }[]).filter((e) => e.outcome === "completed")).toHaveLength(1);
  await engine.stop(2000);
});

it("keeps jobs enqueued during an outage in the outbox and publishes them when the broker is back", async () => {
  const metrics = new MetricsRegistry();
  const engine = h.newEngine({ publishTimeoutMs: 300, outboxIntervalMs: 100, outboxGraceMs: 200 }, { broker, metrics });
  await engine.start();
  // Its own type: late duplicates of the first test's messages must not count here.
  const runs: string[] = [];
  engine.register("image", async (_p, ctx) => void runs.push(ctx.jobId));
  engine.startWorkers();
  await waitFor("ready", () => broker.ready);

  const port = proxy.port;
  await proxy.close();
  await waitFor("broker down", () => !broker.ready, 5000, 5);
  const { jobIds } = await engine.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ type: "image" as const, payload: { i } })));
  const { jobId } = await engine.enqueue("image", { single: true });
  const all = [...jobIds, jobId];
  const rows = await h.db.prisma.job.findMany({ where: { id: { in: all } } });
  expect(rows.map((r) => [r.status, r.published])).toEqual(all.map(() => ["pending", false]));
  expect(await metricValue(metrics, "jobs_outbox_pending")).toBe(11);

  await proxy.listen(port);
  await waitFor("all completed after the outage", async () => (await completed(all)) === 11, 30_000, 100);
  expect([...new Set(runs)].sort()).toEqual([...all].sort());
  expect(await metricValue(metrics, "jobs_outbox_pending")).toBe(0);
  await engine.stop(2000);
});
