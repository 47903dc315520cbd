/**
 * A Postgres outage (through a TCP proxy that cuts only this test's connections): state
 * writes wait and retry, nothing is acked before its state is committed, /readyz reports
 * not-ready while the database is unreachable, enqueue fails fast, and every job completes
 * exactly once when the database is back.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { openDatabase, type Database } from "../../services/db/client.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { harness, waitFor, type Harness } from "./helpers.js";
import { TcpProxy } from "./tcp-proxy.js";

let h: Harness;
let proxy: TcpProxy;
let db: Database;
let server: Server;
let base: string;

beforeAll(async () => {
  h = await harness("dbdown");
  proxy = new TcpProxy("127.0.0.1", 5432);
  await proxy.listen();
  const url = new URL(h.databaseUrl);
  url.port = String(proxy.port);
  db = await openDatabase({ databaseUrl: url.toString(), poolMax: 4 });
  const metrics = new MetricsRegistry();
  const app = createApp({
    logger: h.logger,
    metrics,
    requestLogging: false,
    readinessTimeoutMs: 500,
    // Every /readyz below must be a fresh check: the outage and the recovery are seconds apart.
    readinessMaxAgeMs: 0,
    readiness: {
      postgres: () => db.ping(),
      rabbitmq: async () => {
        if (!h.broker.ready) throw new Error("not connected");
      },
    },
  });
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await proxy?.close();
  await db?.close().catch(() => undefined);
  await h?.close();
});

it("rides out a database outage: writes retry, readiness fails, every job completes once afterwards", async () => {
  // The engine under test talks to Postgres through the proxy.
  const proxied = h.newEngine({ concurrency: 4 }, { db });
  await proxied.start();
  let gate!: () => void;
  const opened = new Promise<void>((r) => (gate = r));
  const runs = new Map<string, number>();
  proxied.register<{ i: number }>("import", async (p, ctx) => {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    if (p.i >= 10) await opened; // these finish only once the database is gone
  });
  const { jobIds } = await proxied.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: "import" as const, payload: { i } })));
  proxied.startWorkers();
  await waitFor("first 10 completed", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "completed" } })) >= 10);

  await proxy.close();
  expect((await fetch(`${base}/readyz`)).status).toBe(503);
  await expect(proxied.enqueue("import", { i: -1 })).rejects.toThrow();
  gate(); // handlers finish while their state cannot be written
  await new Promise((r) => setTimeout(r, 700));
  expect(await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "completed" } })).toBeLessThan(30);

  await proxy.listen(proxy.port);
  await waitFor("all completed", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "completed" } })) === 30, 30_000, 100);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  const rows = await h.db.prisma.job.findMany({ where: { id: { in: jobIds } }, select: { history: true } });
  for (const r of rows) expect((r.history as { outcome?: string }[]).filter((e) => e.outcome === "completed")).toHaveLength(1);
  expect(runs.size).toBe(30);
  await proxied.stop(2000);
});
