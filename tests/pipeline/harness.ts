/**
 * End-to-end harness: a fresh Postgres database, a RabbitMQ connection with a queue namespace
 * of its own (deleted afterwards), the three stand-in services, and the platform built by
 * services/platform.ts exactly as `npm start` builds it, its application port and its metrics
 * listener each on a random port.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";
import type { AddressInfo } from "node:net";
import type { Product } from "../../services/db/generated/client.js";
import { loadConfig, type Config } from "../../services/config.js";
import type { JobEngineConfig } from "../../services/jobs/engine.js";
import { openDatabase } from "../../services/db/client.js";
import { silentLogger, type Logger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { createPlatform, type Platform } from "../../services/platform.js";
import { createTestDatabase } from "../helpers/db.js";
import { LibreTranslateStandin, SourceSite, StoreStandin } from "./standins/index.js";
import { waitFor as waitUntil } from "../helpers/wait.js";

export const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const TOKEN = "test-token";

/** Response bodies are asserted field by field in tests; `any` keeps those assertions short. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiResponse = { status: number; body: any; headers: Headers };

export interface PipelineHarness {
  readonly platform: Platform;
  readonly config: Config;
  readonly metrics: MetricsRegistry;
  readonly db: Awaited<ReturnType<typeof openDatabase>>;
  readonly site: SourceSite;
  readonly translate: LibreTranslateStandin;
  readonly store: StoreStandin;
  /** The application port (what the load balancer reaches). */
  readonly baseUrl: string;
  /** The metrics listener (/metrics, the detailed /readyz). */
  readonly metricsUrl: string;
  readonly storageDir: string;
  /** A request to the application port, with the API token unless headers replace it. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** The metrics listener's exposition, as Prometheus scrapes it. */
  scrape(): Promise<string>;
  /** Waits until the product has the status, failing fast on an unexpected terminal one. */
  waitForStatus(productId: string, status: string, timeoutMs?: number): Promise<Product>;
  close(): Promise<void>;
}

/** The shared poller, with the longer defaults the pipeline's multi-hop flows need. */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  return waitUntil(what, fn, timeoutMs, everyMs);
}

export interface HarnessOptions {
  /** Where the platform logs (silent by default); tests that read log lines pass their own. */
  readonly logger?: Logger;
  /** Engine settings on top of the harness's short delays (e.g. per-type timeouts). */
  readonly engineConfig?: Partial<JobEngineConfig>;
  /** The platform reaches Postgres through 127.0.0.1:<port> (a TcpProxy the test owns) instead of directly. */
  readonly postgresPort?: number;
}

export async function startHarness(env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<PipelineHarness> {
  const metrics = new MetricsRegistry();
  const testDb = await createTestDatabase();
  const dbUrl = new URL(testDb.url);
  if (opts.postgresPort) dbUrl.port = String(opts.postgresPort);
  const db = await openDatabase({ databaseUrl: dbUrl.toString(), metrics, poolMax: 10 });
  const broker = new Connection({ url: AMQP_URL, connectionName: "pipeline-test", retryLow: 100, retryHigh: 1000 });
  broker.on("error", () => undefined);
  await broker.onConnect(5000);
  const [site, translate, store] = await Promise.all([SourceSite.start(), LibreTranslateStandin.start({ apiKey: "lt-key" }), StoreStandin.start({ token: "store-token" })]);
  const storageDir = await mkdtemp(join(tmpdir(), "pipeline-images-"));
  const config = loadConfig({
    NODE_ENV: "test",
    API_TOKENS: TOKEN,
    TARGET_LANGUAGES: "de,fr",
    TRANSLATION_URL: translate.url,
    TRANSLATION_API_KEY: "lt-key",
    STORE_URL: store.url,
    STORE_API_TOKEN: "store-token",
    STORAGE_DIR: storageDir,
    // Generous: the stand-ins share this process (and a busy CI machine) with sharp and the workers.
    FETCH_TIMEOUT_MS: "5000",
    FETCH_MAX_BYTES: String(2 * 1024 * 1024),
    JOB_MAX_RETRIES: "4",
    SOURCE_CHECK_INTERVAL_MS: "0",
    RATE_LIMIT_PER_MINUTE: "100000",
    ...env,
  });
  const namespace = `test.pipeline.${process.pid}.${randomBytes(3).toString("hex")}.`;
  const platform = createPlatform({
    config,
    logger: opts.logger ?? silentLogger(),
    metrics,
    db,
    broker,
    engineConfig: {
      namespace,
      retry: { baseMs: 50, maxMs: 400, maxRetries: config.JOB_MAX_RETRIES },
      timeoutMs: 10_000,
      outboxIntervalMs: 200,
      // The relay republishes rows whose publish is not confirmed within the grace; on a busy
      // machine a short grace turns slow confirms into duplicate deliveries (legal, at-least-once,
      // but noisy for tests that count provider calls).
      outboxGraceMs: 2000,
      shutdownDeadlineMs: 3_000,
      stuckGraceMs: 0,
      ...opts.engineConfig,
    },
  });
  await platform.start();
  const server = await platform.listen(0, "127.0.0.1");
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const metricsServer = await platform.listenMetrics(0, "127.0.0.1");
  const metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;

  const api: PipelineHarness["api"] = async (method, path, body, headers = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const scrape = async () => {
    const res = await fetch(`${metricsUrl}/metrics`);
    if (!res.ok) throw new Error(`scraping ${metricsUrl}/metrics answered ${res.status}`);
    return res.text();
  };

  return {
    platform,
    config,
    metrics,
    db,
    site,
    translate,
    store,
    baseUrl,
    metricsUrl,
    storageDir,
    api,
    scrape,
    waitForStatus: (productId, status, timeoutMs = 20_000) =>
      waitFor(`product ${productId} to reach ${status}`, async () => {
        const p = await db.prisma.product.findUnique({ where: { id: productId } });
        if (p && p.status !== status && ["failed", "source_gone"].includes(p.status) && !["failed", "source_gone"].includes(status)) {
          throw new Error(`product ${productId} is ${p.status} (${p.failureReason ?? ""}), expected ${status}`);
        }
        return p?.status === status ? p : undefined;
      }, timeoutMs),
    async close() {
      await platform.stop(2000).catch(() => undefined);
      await platform.jobs.engine.deleteTopology().catch(() => undefined);
      await broker.close();
      await db.close();
      await testDb.drop();
      await Promise.all([site.close(), translate.close(), store.close()]);
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

export async function metricValue(metrics: MetricsRegistry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const m = json.find((x) => x.name === name);
  if (!m) return 0;
  return (m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[])
    .filter((v) => !v.metricName || v.metricName === name || v.metricName === `${name}_count`)
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((s, v) => s + v.value, 0);
}
