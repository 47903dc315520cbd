/**
 * Builds the whole product pipeline in one place: job system, pipeline service, workers,
 * routers, the two Express apps and the schedulers. `npm start` (services/main.ts) and the
 * end-to-end tests both use it, so the tests exercise the production wiring.
 *
 * Two listeners: the application port (PORT: /v1 for the api role, /healthz, a yes/no
 * /readyz), which the internet-facing load balancer reaches, and the metrics listener
 * (METRICS_PORT: /metrics, the detailed /readyz, /healthz), which only Prometheus and the
 * kubelet reach. Every role serves both.
 */
import type { Server } from "node:http";
import type { Express } from "express";
import type { Connection } from "rabbitmq-client";
import { createApp, type AppOptions } from "./api/app.js";
import { createMetricsApp } from "./api/metrics-listener.js";
import { Readiness } from "./api/readiness.js";
import { FaultInjector, faultInjectionRouter } from "./api/fault-injection.js";
import { importsRouter } from "./api/routes/imports.js";
import { productsRouter } from "./api/routes/products.js";
import { sourceChecksRouter } from "./api/routes/source-checks.js";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import type { JobEngineConfig } from "./jobs/engine.js";
import { createJobSystem, type JobSystem } from "./jobs/system.js";
import type { Logger } from "./logger.js";
import { dependencyUp } from "./metrics.js";
import type { MetricsRegistry } from "./metrics-registry.js";
import type { FetchLimits } from "./pipeline/http.js";
import { pipelineDeadJobPolicy } from "./pipeline/dead-jobs.js";
import { ImageGarbageCollector } from "./pipeline/image-gc.js";
import { SourceCheckScheduler } from "./pipeline/scheduler.js";
import { PipelineService } from "./pipeline/service.js";
import { LocalStorage, S3Storage, type ObjectStorage } from "./pipeline/storage.js";
import { HttpStoreClient, type StoreClient } from "./pipeline/store.js";
import { LibreTranslateProvider, type TranslationProvider } from "./pipeline/translation.js";
import { registerWorkers } from "./workers/index.js";

export interface PlatformOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly db: Database;
  readonly broker: Connection;
  /** Tests: queue namespace, short retry delays. */
  readonly engineConfig?: Partial<JobEngineConfig>;
  /** Replace an outside service (defaults: the HTTP clients configured by URL). */
  readonly providers?: Partial<{ translator: TranslationProvider; storage: ObjectStorage; store: StoreClient }>;
  /** Benchmarks switch middleware off here; tests shorten how long /readyz reuses a result. */
  readonly app?: Pick<AppOptions, "httpMetrics" | "requestLogging" | "readinessMaxAgeMs">;
}

export interface Platform {
  /** The application port's app. */
  readonly app: Express;
  /** The metrics listener's app. */
  readonly metricsApp: Express;
  readonly readiness: Readiness;
  readonly jobs: JobSystem;
  readonly service: PipelineService;
  readonly sourceChecks: SourceCheckScheduler;
  /** Removes image objects no product refers to (scheduler role, every IMAGE_GC_INTERVAL_MS). */
  readonly imageGc: ImageGarbageCollector;
  /** Declares queues, then starts workers and schedulers as ROLES says. */
  start(): Promise<void>;
  /** The application port (PORT). */
  listen(port: number, host?: string): Promise<Server>;
  /** The metrics listener (METRICS_PORT by default). */
  listenMetrics(port?: number, host?: string): Promise<Server>;
  /**
   * Stops accepting requests, drains the jobs, stops schedulers, then closes the metrics
   * listener (scrapes and probes keep working during the drain). Connections stay open.
   */
  stop(deadlineMs?: number): Promise<void>;
}

export function fetchLimits(config: Config): FetchLimits {
  return {
    timeoutMs: config.FETCH_TIMEOUT_MS,
    maxBytes: config.FETCH_MAX_BYTES,
    maxRedirects: config.FETCH_MAX_REDIRECTS,
    blockPrivate: config.BLOCK_PRIVATE_SOURCES,
  };
}

export function defaultProviders(config: Config) {
  const limits = fetchLimits(config);
  const storage: ObjectStorage =
    config.STORAGE_DRIVER === "s3"
      ? new S3Storage({ bucket: config.S3_BUCKET!, region: config.S3_REGION, endpoint: config.S3_ENDPOINT, forcePathStyle: config.S3_FORCE_PATH_STYLE })
      : new LocalStorage(config.STORAGE_DIR);
  return {
    translator: new LibreTranslateProvider({ baseUrl: config.TRANSLATION_URL, apiKey: config.TRANSLATION_API_KEY, limits }),
    store: new HttpStoreClient({ baseUrl: config.STORE_URL, apiToken: config.STORE_API_TOKEN, limits }),
    storage,
  };
}

export function createPlatform(opts: PlatformOptions): Platform {
  const { config, logger, metrics, db, broker } = opts;
  const jobs = createJobSystem({ config, db, broker, logger, metrics, engineConfig: opts.engineConfig, deadJobPolicy: pipelineDeadJobPolicy });
  const service = new PipelineService({
    db,
    jobs: jobs.engine,
    metrics,
    logger,
    autoPushOnApprove: config.AUTO_PUSH_ON_APPROVE,
    blockPrivateSources: config.BLOCK_PRIVATE_SOURCES,
  });
  const providers = { ...defaultProviders(config), ...opts.providers };
  registerWorkers(jobs.engine, { db, jobs: jobs.engine, metrics, config, fetchLimits: fetchLimits(config), ...providers });
  const sourceChecks = new SourceCheckScheduler(service, config.SOURCE_CHECK_INTERVAL_MS, logger);
  const imageGc = new ImageGarbageCollector(
    { db, storage: providers.storage, metrics, logger },
    { intervalMs: config.IMAGE_GC_INTERVAL_MS, graceMs: config.IMAGE_GC_GRACE_MS, maxDeletes: config.IMAGE_GC_MAX_DELETES },
  );

  const readiness = new Readiness(
    {
      postgres: () => db.ping(),
      rabbitmq: async () => {
        if (!broker.ready) throw new Error("not connected");
      },
    },
    { logger },
  );
  // Time-bounded like /readyz, and shared with a probe that runs at the same moment.
  metrics.gauge(dependencyUp, async (g) => {
    const { checks } = await readiness.report();
    for (const name of readiness.names) g.set({ dependency: name }, checks[name] === "ok" ? 1 : 0);
  });
  // Every /v1 route takes a bearer token: API_TOKENS outside /v1/admin, ADMIN_TOKENS inside.
  const tokens = config.API_TOKENS;
  const app = createApp({
    logger,
    metrics,
    readiness,
    bodyLimit: config.BODY_LIMIT,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    // Worker and scheduler processes serve only the health and metrics endpoints.
    routers: config.ROLES.includes("api")
      ? [
          // First, so the injected failures reach every /v1 route (local runs and e2e only).
          ...(config.FAULT_INJECTION ? [faultInjectionRouter({ injector: new FaultInjector(), adminTokens: config.ADMIN_TOKENS })] : []),
          importsRouter({ service, tokens }), productsRouter({ service, tokens }), sourceChecksRouter({ service, tokens }),
          ...jobs.routers,
        ]
      : [],
    ...opts.app,
  });
  const metricsApp = createMetricsApp({ logger, metrics, readiness });

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  return {
    app,
    metricsApp,
    readiness,
    jobs,
    service,
    sourceChecks,
    imageGc,
    async start() {
      await jobs.start();
      if (config.ROLES.includes("workers")) jobs.engine.startWorkers(config.JOB_TYPES);
      if (config.ROLES.includes("scheduler")) {
        jobs.startSchedulers();
        sourceChecks.start();
        imageGc.start();
      }
    },
    async listen(port, host = config.HOST) {
      server = await listenOn(app, port, host);
      return server;
    },
    async listenMetrics(port = config.METRICS_PORT, host = config.HOST) {
      metricsServer = await listenOn(metricsApp, port, host);
      return metricsServer;
    },
    async stop(deadlineMs) {
      const closing = close(server);
      await sourceChecks.stop();
      await imageGc.stop();
      await jobs.stop(deadlineMs);
      await closing;
      await close(metricsServer);
    },
  };
}

async function listenOn(app: Express, port: number, host: string): Promise<Server> {
  const s = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    s.once("listening", resolve);
    s.once("error", reject);
  });
  return s;
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}
