/**
 * Test harness for the job engine: a fresh database (tests/helpers/db.ts), a broker
 * connection, and a namespace of queues that is deleted afterwards.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { Connection } from "rabbitmq-client";
import type { Database } from "../../services/db/client.js";
import { JobEngine, type JobEngineConfig } from "../../services/jobs/engine.js";
import { JobStore } from "../../services/jobs/job-store.js";
import { topology } from "../../services/jobs/topology.js";
import { JOB_TYPES, type JobType } from "../../services/jobs/types.js";
import { silentLogger, type Logger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { openTestDatabase } from "../helpers/db.js";

export const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

export function uniqueNamespace(tag: string): string {
  return `test.${tag}.${process.pid}.${randomBytes(3).toString("hex")}.`;
}

/** Fast settings for tests: 50 ms base delay, 5 retries, short outbox grace. */
export function testEngineConfig(namespace: string, overrides: Partial<JobEngineConfig> = {}): JobEngineConfig {
  return {
    namespace,
    retry: { baseMs: 50, maxMs: 60_000, maxRetries: 5 },
    concurrency: 4,
    timeoutMs: 10_000,
    stuckGraceMs: 0,
    outboxIntervalMs: 200,
    // A published job's mark is written late (a quarter of the grace) and can be slower still on
    // a loaded machine; another process's relay would then publish it a second time, which is
    // correct (at-least-once) but not what the exactly-once-run assertions here are about.
    outboxGraceMs: 1000,
    shutdownDeadlineMs: 5_000,
    types: ["import", "image"] satisfies JobType[],
    ...overrides,
  };
}

export async function connect(url = AMQP_URL, name = "jobs-test"): Promise<Connection> {
  const conn = new Connection({ url, connectionName: name, retryLow: 100, retryHigh: 1000 });
  conn.on("error", () => undefined);
  await conn.onConnect(5000);
  return conn;
}

export interface Harness {
  db: Database;
  databaseUrl: string;
  broker: Connection;
  namespace: string;
  logger: Logger;
  newEngine(overrides?: Partial<JobEngineConfig>, deps?: { broker?: Connection; db?: Database; clock?: () => Date; metrics?: MetricsRegistry }): JobEngine;
  close(): Promise<void>;
}

/**
 * A test file's harness, opened before its tests and closed after them: the handle reads
 * through to it (use it inside tests and hooks, not at the top level of the file).
 */
export function useHarness(tag: string): Harness {
  let opened: Harness | undefined;
  beforeAll(async () => {
    opened = await harness(tag);
  });
  afterAll(async () => {
    await opened?.close();
  });
  const get = (): Harness => {
    if (!opened) throw new Error("useHarness: the harness is opened in beforeAll");
    return opened;
  };
  return {
    get db() {
      return get().db;
    },
    get databaseUrl() {
      return get().databaseUrl;
    },
    get broker() {
      return get().broker;
    },
    get namespace() {
      return get().namespace;
    },
    get logger() {
      return get().logger;
    },
    newEngine: (overrides, deps) => get().newEngine(overrides, deps),
    close: () => get().close(),
  };
}

export async function harness(tag: string): Promise<Harness> {
  const t = await openTestDatabase({ poolMax: 10 });
  const broker = await connect();
  const namespace = uniqueNamespace(tag);
  const logger = silentLogger();
  const engines: JobEngine[] = [];
  return {
    db: t.db,
    databaseUrl: t.testDb.url,
    broker,
    namespace,
    logger,
    newEngine(overrides = {}, deps = {}) {
      const engine = new JobEngine({
        db: deps.db ?? t.db,
        broker: deps.broker ?? broker,
        logger,
        metrics: deps.metrics ?? new MetricsRegistry(),
        config: testEngineConfig(namespace, overrides),
        clock: deps.clock,
      });
      engines.push(engine);
      return engine;
    },
    async close() {
      for (const e of engines) await e.stop(1000).catch(() => undefined);
      const cfg = testEngineConfig(namespace);
      for (const spec of topology(cfg.retry, namespace, JOB_TYPES)) await broker.queueDelete({ queue: spec.queue }).catch(() => undefined);
      await broker.close();
      await t.close();
    },
  };
}

export { waitFor } from "../helpers/wait.js";

export async function jobRow(db: Database, id: string) {
  return db.prisma.job.findUniqueOrThrow({ where: { id } });
}

export async function metricValue(metrics: MetricsRegistry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };
  // Histograms list their _count/_sum/_bucket samples under the base name.
  const samples = json.flatMap((m) => (m.values as Sample[]).map((v) => ({ ...v, metricName: v.metricName ?? m.name })));
  return samples
    .filter((v) => v.metricName === name)
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((s, v) => s + v.value, 0);
}

/**
 * A test file's own database and a JobStore on it, opened before its tests and closed after
 * them (store-level tests: the statements without an engine around them).
 */
export function useJobStore(): { readonly store: JobStore; readonly db: Database } {
  let t: Awaited<ReturnType<typeof openTestDatabase>> | undefined;
  let store: JobStore | undefined;
  beforeAll(async () => {
    t = await openTestDatabase();
    store = new JobStore(t.db.sql);
  });
  afterAll(async () => {
    await t?.close();
  });
  return {
    get store() {
      if (!store) throw new Error("useJobStore: the database is opened in beforeAll");
      return store;
    },
    get db() {
      if (!t) throw new Error("useJobStore: the database is opened in beforeAll");
      return t.db;
    },
  };
}
