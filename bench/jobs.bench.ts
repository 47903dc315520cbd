/**
 * `npm run bench:jobs`: 20,000 no-op jobs with 100-byte payloads through the real engine
 * (durable state in Postgres, quorum queues, confirms), and in the same run the raw ceiling:
 * bare rabbitmq-client publish-with-confirms and consume-with-ack of the same messages on the
 * same queue type, with the same prefetch and concurrency. Prints both and the ratio.
 */
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Connection, ConsumerStatus } from "rabbitmq-client";
import { openDatabase } from "../services/db/client.js";
import { JobEngine } from "../services/jobs/engine.js";
import { silentLogger } from "../services/logger.js";
import { jobsCompletedTotal } from "../services/metrics.js";
import { MetricsRegistry } from "../services/metrics-registry.js";
import { createTestDatabase } from "../tests/helpers/db.js";

const N = Number(process.env.BENCH_JOBS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
// Prefetch bounds the messages (and so the group-commit batch) in flight; both runs use it.
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? CONCURRENCY * 16);
/** Enqueue batches in flight at once, for both the engine and the raw publisher. */
const ENQUEUE_BATCH = 500;
const ENQUEUE_PARALLEL = 4;
const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const PAYLOAD = { data: "x".repeat(88) }; // 100 bytes as JSON
const ns = `bench.${process.pid}.${randomBytes(3).toString("hex")}.`;

async function chunked(total: number, fn: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: ENQUEUE_PARALLEL }, async () => {
      while (next < total) {
        const from = next;
        next = Math.min(total, next + ENQUEUE_BATCH);
        await fn(from, next);
      }
    }),
  );
}

/** CPU time (ms) of this process, the broker and the Postgres backends; debug output only. */
function cpuSnapshot(): { node: number; broker: number; postgres: number } {
  const ticks = (pattern: string) => {
    try {
      const pids = execSync(`pgrep ${pattern}`).toString().trim().split("\n");
      return pids.reduce((sum, pid) => {
        try {
          const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
          return sum + Number(f[11]) + Number(f[12]);
        } catch {
          return sum;
        }
      }, 0) * 10;
    } catch {
      return 0;
    }
  };
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1000, broker: ticks("-f beam.smp"), postgres: ticks("-x postgres") };
}

function cpuPer1000(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): string {
  const per = (x: number) => ((x * 1000) / N).toFixed(0);
  return `node ${per(b.node - a.node)}, rabbitmq ${per(b.broker - a.broker)}, postgres ${per(b.postgres - a.postgres)}`;
}

interface Rates {
  enqueue: number;
  process: number;
}

async function raw(conn: Connection): Promise<Rates> {
  const queue = `${ns}raw`;
  await conn.queueDeclare({ queue, durable: true, arguments: { "x-queue-type": "quorum" } });
  const pub = conn.createPublisher({ confirm: true });
  const t0 = performance.now();
  await chunked(N, (from, to) =>
    Promise.all(
      Array.from({ length: to - from }, (_, i) =>
        pub.send({ routingKey: queue, durable: true, messageId: String(from + i), contentType: "application/json" }, PAYLOAD),
      ),
    ),
  );
  const enqueueS = (performance.now() - t0) / 1000;
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const cpu0 = cpuSnapshot();
  const t1 = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const sub = conn.createConsumer(
    { queue, queueOptions: { queue, passive: true }, qos: { prefetchCount: PREFETCH }, concurrency: CONCURRENCY, requeue: false },
    async () => {
      if (++seen === N) done();
      return ConsumerStatus.ACK;
    },
  );
  await finished;
  const processS = (performance.now() - t1) / 1000;
  loop.disable();
  if (process.env.BENCH_DEBUG) console.log(`raw cpu ms per 1000 jobs: ${cpuPer1000(cpu0, cpuSnapshot())}`);
  if (process.env.BENCH_DEBUG) console.log(`raw event loop delay: mean ${(loop.mean / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms`);
  await sub.close();
  await pub.close();
  await conn.queueDelete({ queue });
  return { enqueue: N / enqueueS, process: N / processS };
}

async function engineRun(conn: Connection, databaseUrl: string): Promise<Rates> {
  const db = await openDatabase({ databaseUrl, poolMax: 10 });
  const metrics = new MetricsRegistry();
  const engine = new JobEngine({
    db,
    broker: conn,
    logger: silentLogger(),
    metrics,
    config: {
      namespace: ns,
      types: ["import"],
      retry: { baseMs: 1000, maxMs: 60_000, maxRetries: 5 },
      concurrency: CONCURRENCY,
      prefetch: PREFETCH,
      timeoutMs: 60_000,
      shutdownDeadlineMs: 10_000,
      outboxIntervalMs: 60_000,
      commitLingerMs: Number(process.env.BENCH_LINGER_MS ?? 2),
    },
  });
  try {
    await engine.start();
    const t0 = performance.now();
    await chunked(N, (from, to) => engine.enqueueMany(Array.from({ length: to - from }, () => ({ type: "import" as const, payload: PAYLOAD }))));
    // Enqueue is done when the outbox bookkeeping (published = true) is committed too.
    await engine.flushWrites();
    const enqueueS = (performance.now() - t0) / 1000;
    const completed = metrics.counter(jobsCompletedTotal);
    engine.register("import", async () => undefined, { concurrency: CONCURRENCY });
    const cpu0 = cpuSnapshot();
    const t1 = performance.now();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    engine.startWorkers();
    for (;;) {
      const v = (await completed.get()).values.reduce((s, x) => s + x.value, 0);
      if (v >= N) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const processS = (performance.now() - t1) / 1000;
    loop.disable();
    if (process.env.BENCH_DEBUG) {
      console.log(`engine cpu ms per 1000 jobs: ${cpuPer1000(cpu0, cpuSnapshot())}`);
      console.log(JSON.stringify(engine.batchStats));
      console.log(`event loop delay: mean ${(loop.mean / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
    }
    const r = await db.sql.query<{ status: string; n: string }>("SELECT status, count(*) AS n FROM jobs GROUP BY status");
    const byStatus = Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
    if (byStatus.completed !== N) throw new Error(`expected ${N} completed jobs, got ${JSON.stringify(byStatus)}`);
    return { enqueue: N / enqueueS, process: N / processS };
  } finally {
    await engine.stop(5000);
    await engine.deleteTopology();
    await db.close();
  }
}

/**
 * Rounds alternate raw and engine so both see the same neighbours on a shared machine; each
 * side's best round is compared (the ceiling of each, measured under the same conditions).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const conn = new Connection({ url: AMQP_URL, connectionName: "bench-jobs" });
  await conn.onConnect(5000);
  const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} jobs/s`.padStart(14);
  const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
  const line = (label: string, r: Rates) => console.log(`${label.padEnd(16)} enqueue ${fmt(r.enqueue)}   process ${fmt(r.process)}`);
  console.log(`bench:jobs  ${N} jobs, 100-byte payloads, quorum queues, concurrency ${CONCURRENCY}, prefetch ${PREFETCH}, ${ROUNDS} rounds`);
  const raws: Rates[] = [];
  const engines: Rates[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      if (!process.env.BENCH_SKIP_RAW) {
        raws.push(await raw(conn));
        line(`raw    round ${round}`, raws.at(-1)!);
      }
      const testDb = await createTestDatabase("bench");
      try {
        engines.push(await engineRun(conn, testDb.url));
        line(`engine round ${round}`, engines.at(-1)!);
      } finally {
        await testDb.drop();
      }
    }
    const best = (rs: Rates[]): Rates => ({ enqueue: Math.max(...rs.map((r) => r.enqueue)), process: Math.max(...rs.map((r) => r.process)) });
    const b = { raw: best(raws), engine: best(engines) };
    line("raw    (best)", b.raw);
    line("engine (best)", b.engine);
    console.log(`ratio engine/raw  enqueue ${ratio(b.engine.enqueue, b.raw.enqueue)}   process ${ratio(b.engine.process, b.raw.process)}   (floor 35%)`);
  } finally {
    await conn.close();
  }
}

await main();
