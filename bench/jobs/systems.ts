/**
 * The systems bench:jobs compares, behind one interface and on the same workload:
 *   raw     bare rabbitmq-client on a quorum queue: publish with confirms, consume with ack
 *           (the ceiling: no job state at all);
 *   engine  the job engine (rows in Postgres, quorum queues, confirms, group commits);
 *   bullmq  BullMQ on a private redis-server with appendfsync always.
 * "Completed" means the outcome is durably recorded: the engine's row is committed
 * `completed`; BullMQ's job is in its completed set (redis fsyncs before it answers); raw
 * has no record, its consumer's ack is the end.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";
import pg from "pg";
import { ConsumerStatus, type Connection } from "rabbitmq-client";
import { connectBroker } from "../../services/broker.js";
import { openDatabase, type Database } from "../../services/db/client.js";
import { uuidv7 } from "../../services/ids.js";
import { JobEngine, type EnqueueItem, type JobEngineConfig } from "../../services/jobs/engine.js";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { PG_ADMIN_URL, createTestDatabase, type TestDatabase } from "../../tests/helpers/db.js";
import { pidsOf, type CpuSources } from "./cpu.js";

export interface Workload {
  concurrency: number;
  prefetch: number;
  /** undefined: a no-op handler. */
  handler?: () => Promise<void>;
}

export interface JobSystem {
  readonly name: string;
  readonly cpu: CpuSources;
  /** n single enqueue calls, `window` of them in flight at any time. */
  enqueueSingle(n: number, payload: unknown, window: number): Promise<void>;
  /** n jobs in bulk calls of `batch`, `parallel` calls in flight. */
  enqueueBulk(n: number, payload: unknown, batch: number, parallel: number): Promise<void>;
  /** Consumes until n jobs are completed, then stops consuming. */
  process(n: number, w: Workload): Promise<void>;
  /** A steady offered load (single enqueues) with workers running; enqueue-to-completed latencies in ms, in enqueue order. */
  latency(rate: number, seconds: number, payload: unknown, w: Workload): Promise<number[]>;
  close(): Promise<void>;
}

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const rabbitPids = () => pidsOf("beam.smp");

async function windowed(n: number, window: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, n) }, async () => {
      while (next < n) await call(next++);
    }),
  );
}

async function chunked(n: number, batch: number, parallel: number, call: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + batch);
        await call(from, next);
      }
    }),
  );
}

/** Sends `rate` jobs per second for `seconds`, spread evenly (1 ms ticks). */
async function offer(rate: number, seconds: number, send: (i: number) => void): Promise<void> {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) send(sent++);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Resolves once `count()` reaches n; fails after timeoutMs naming what is missing. */
function counter(n: number, what: string, timeoutMs = 120_000) {
  let seen = 0;
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`${what}: only ${seen} of ${n} completed in ${timeoutMs} ms`)), timeoutMs);
  return {
    hit() {
      if (++seen === n) {
        clearTimeout(timer);
        resolve();
      }
    },
    done,
  };
}

/**
 * Enqueue-to-completed latencies of a steady offered load, in enqueue order (so the caller can
 * drop a warm-up prefix). `start` when a job is offered, `finish` when its completion is seen.
 */
function latencyRecorder(total: number, what: string) {
  const started = new Map<string, { i: number; t0: number }>();
  const out = new Array<number>(total);
  const c = counter(total, what);
  return {
    start(id: string, i: number): void {
      started.set(id, { i, t0: performance.now() });
    },
    finish(id: string): void {
      const s = started.get(id);
      if (s !== undefined) out[s.i] = performance.now() - s.t0;
      c.hit();
    },
    latencies: c.done.then(() => out),
  };
}

// -------------------------------------------------------------------------------- raw

export class RawSystem implements JobSystem {
  readonly name = "raw rabbitmq-client";
  readonly cpu: CpuSources = { broker: rabbitPids, database: () => [] };
  private readonly pub;
  private queue = "";

  private constructor(
    private readonly conn: Connection,
    private readonly ns: string,
  ) {
    this.pub = conn.createPublisher({ confirm: true });
  }

  static async open(conn: Connection, ns: string): Promise<RawSystem> {
    const s = new RawSystem(conn, ns);
    await s.fresh();
    return s;
  }

  private async fresh(): Promise<void> {
    if (this.queue) await this.conn.queueDelete({ queue: this.queue });
    this.queue = `${this.ns}raw.${randomUUID().slice(0, 8)}`;
    await this.conn.queueDeclare({ queue: this.queue, durable: true, arguments: { "x-queue-type": "quorum" } });
  }

  private send(i: number, payload: unknown) {
    return this.pub.send({ routingKey: this.queue, durable: true, messageId: String(i), contentType: "application/json" }, payload);
  }

  enqueueSingle(n: number, payload: unknown, window: number) {
    return windowed(n, window, (i) => this.send(i, payload));
  }

  enqueueBulk(n: number, payload: unknown, batch: number, parallel: number) {
    return chunked(n, batch, parallel, (from, to) => Promise.all(Array.from({ length: to - from }, (_, i) => this.send(from + i, payload))));
  }

  async process(n: number, w: Workload): Promise<void> {
    const c = counter(n, "raw");
    const handler = w.handler;
    const sub = this.conn.createConsumer(
      { queue: this.queue, queueOptions: { queue: this.queue, passive: true }, qos: { prefetchCount: w.prefetch }, concurrency: w.concurrency, requeue: false },
      async () => {
        if (handler) await handler();
        c.hit();
        return ConsumerStatus.ACK;
      },
    );
    await c.done;
    await sub.close();
  }

  async latency(rate: number, seconds: number, payload: unknown, w: Workload): Promise<number[]> {
    const rec = latencyRecorder(Math.round(rate * seconds), "raw latency");
    const sub = this.conn.createConsumer(
      { queue: this.queue, queueOptions: { queue: this.queue, passive: true }, qos: { prefetchCount: w.prefetch }, concurrency: w.concurrency, requeue: false },
      async (msg) => {
        if (w.handler) await w.handler();
        rec.finish(String(msg.messageId));
        return ConsumerStatus.ACK;
      },
    );
    await offer(rate, seconds, (i) => {
      rec.start(`l${i}`, i);
      void this.pub.send({ routingKey: this.queue, durable: true, messageId: `l${i}`, contentType: "application/json" }, payload);
    });
    const out = await rec.latencies;
    await sub.close();
    return out;
  }

  /** A new, empty queue for the next round. */
  reset(): Promise<void> {
    return this.fresh();
  }

  async close(): Promise<void> {
    await this.pub.close();
    await this.conn.queueDelete({ queue: this.queue }).catch(() => undefined);
  }
}

// ----------------------------------------------------------------------------- engine

export interface EngineSystemOptions {
  /** An existing database (the 1M-row case); a fresh one is created otherwise. */
  database?: TestDatabase;
  /** The server to create it on and read its backends from (the shared test server by default). */
  adminUrl?: string;
  linger?: number;
}

export class EngineSystem implements JobSystem {
  readonly name = "job engine";
  readonly cpu: CpuSources;
  private producer!: JobEngine;
  /** Statements sent to Postgres, counted at the executor (robust to load: a count, not a time). */
  statements = 0;

  private constructor(
    private readonly conn: Connection,
    private readonly ns: string,
    readonly testDb: TestDatabase,
    readonly db: Database,
    private readonly admin: pg.Client,
    private readonly opts: EngineSystemOptions,
  ) {
    this.cpu = {
      broker: rabbitPids,
      database: async () => (await this.admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [this.testDb.name])).rows.map((r) => r.pid),
    };
  }

  static async open(conn: Connection, ns: string, opts: EngineSystemOptions = {}): Promise<EngineSystem> {
    const testDb = opts.database ?? (await createTestDatabase("bench", opts.adminUrl));
    const db = await openDatabase({ databaseUrl: testDb.url, poolMax: 10 });
    const admin = new pg.Client({ connectionString: opts.adminUrl ?? PG_ADMIN_URL });
    await admin.connect();
    const s = new EngineSystem(conn, ns, testDb, db, admin, opts);
    const query = db.sql.query.bind(db.sql);
    db.sql.query = ((text: string, params?: unknown[], name?: string) => {
      s.statements++;
      return query(text, params, name);
    }) as typeof db.sql.query;
    s.producer = s.engine({ concurrency: 1 });
    await s.producer.start();
    return s;
  }

  private engine(over: Partial<JobEngineConfig>): JobEngine {
    return new JobEngine({
      db: this.db,
      broker: this.conn,
      logger: silentLogger(),
      metrics: new MetricsRegistry(),
      config: {
        namespace: this.ns,
        types: ["import"],
        retry: { baseMs: 1000, maxMs: 60_000, maxRetries: 5 },
        concurrency: 32,
        timeoutMs: 60_000,
        shutdownDeadlineMs: 10_000,
        outboxIntervalMs: 60_000,
        commitLingerMs: this.opts.linger ?? 2,
        ...over,
      },
    });
  }

  async enqueueSingle(n: number, payload: unknown, window: number): Promise<void> {
    await windowed(n, window, () => this.producer.enqueue("import", payload));
    await this.producer.flushWrites(); // the outbox bookkeeping is part of the cost
  }

  async enqueueBulk(n: number, payload: unknown, batch: number, parallel: number): Promise<void> {
    const items = (k: number): EnqueueItem[] => Array.from({ length: k }, () => ({ type: "import", payload }));
    await chunked(n, batch, parallel, (from, to) => this.producer.enqueueMany(items(to - from)));
    await this.producer.flushWrites();
  }

  private async withWorkers<T>(w: Workload, onRecorded: (id: string) => void, body: (e: JobEngine) => Promise<T>): Promise<T> {
    const e = this.engine({ concurrency: w.concurrency, prefetch: w.prefetch, onRecorded: (id, status) => status === "completed" && onRecorded(id) });
    await e.start();
    const handler = w.handler ?? (async () => undefined);
    e.register("import", handler, { concurrency: w.concurrency });
    e.startWorkers();
    try {
      return await body(e);
    } finally {
      await e.stop(5000);
    }
  }

  process(n: number, w: Workload): Promise<void> {
    const c = counter(n, "engine");
    return this.withWorkers(w, () => c.hit(), () => c.done);
  }

  latency(rate: number, seconds: number, payload: unknown, w: Workload): Promise<number[]> {
    const rec = latencyRecorder(Math.round(rate * seconds), "engine latency");
    return this.withWorkers(
      w,
      (id) => rec.finish(id),
      async (e) => {
        await offer(rate, seconds, (i) => {
          const jobId = uuidv7();
          rec.start(jobId, i);
          void e.enqueue("import", payload, { jobId });
        });
        return rec.latencies;
      },
    );
  }

  async counts(): Promise<Record<string, number>> {
    const r = await this.db.sql.query<{ status: string; n: string }>("SELECT status, count(*) AS n FROM jobs GROUP BY status");
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  }

  get store() {
    return this.producer.store;
  }

  async close(): Promise<void> {
    await this.producer.stop(5000);
    await this.producer.deleteTopology();
    await this.db.close();
    await this.admin.end();
    if (!this.opts.database) await this.testDb.drop();
  }
}

// ----------------------------------------------------------------------------- bullmq

export class BullSystem implements JobSystem {
  readonly name = "BullMQ 6.7 (AOF always)";
  readonly cpu: CpuSources;
  private queue: Queue;
  private readonly connection;

  constructor(
    port: number,
    redisPid: number,
    private readonly ns: string,
  ) {
    this.connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
    this.cpu = { broker: () => [redisPid], database: () => [] };
    this.queue = this.newQueue();
  }

  private newQueue(): Queue {
    return new Queue(`${this.ns}bull.${randomUUID().slice(0, 8)}`, { connection: this.connection });
  }

  async enqueueSingle(n: number, payload: unknown, window: number): Promise<void> {
    await windowed(n, window, () => this.queue.add("import", payload));
  }

  async enqueueBulk(n: number, payload: unknown, batch: number, parallel: number): Promise<void> {
    await chunked(n, batch, parallel, (from, to) => this.queue.addBulk(Array.from({ length: to - from }, () => ({ name: "import", data: payload }))));
  }

  private async withWorker<T>(w: Workload, onCompleted: (id: string) => void, body: () => Promise<T>): Promise<T> {
    const handler = w.handler ?? (async () => undefined);
    const worker = new Worker(this.queue.name, async () => handler(), { connection: this.connection, concurrency: w.concurrency });
    worker.on("completed", (job) => onCompleted(job.id ?? ""));
    try {
      return await body();
    } finally {
      await worker.close();
    }
  }

  process(n: number, w: Workload): Promise<void> {
    const c = counter(n, "bullmq");
    return this.withWorker(w, () => c.hit(), () => c.done);
  }

  latency(rate: number, seconds: number, payload: unknown, w: Workload): Promise<number[]> {
    const rec = latencyRecorder(Math.round(rate * seconds), "bullmq latency");
    return this.withWorker(
      w,
      (id) => rec.finish(id),
      async () => {
        await offer(rate, seconds, (i) => {
          rec.start(`l${i}`, i);
          void this.queue.add("import", payload, { jobId: `l${i}` });
        });
        return rec.latencies;
      },
    );
  }

  async reset(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    this.queue = this.newQueue();
  }

  async close(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
  }
}

/** The broker connection as the services open it (services/broker.ts: the same socket options). */
export function amqp(): Promise<Connection> {
  return connectBroker({ url: AMQP_URL, connectionName: "bench-jobs", connectTimeoutMs: 5000, logger: silentLogger() });
}
