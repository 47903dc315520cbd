/**
 * Builds the whole product pipeline in one place: job system, pipeline service, workers,
 * routers, the Express app and the schedulers. `npm start` (services/main.ts) and the
 * end-to-end tests both use it, so the tests exercise the production wiring.
 */
import type { Server } from "node:http";
import type { Express } from "express";
import type { Connection } from "rabbitmq-client";
import { createApp, type AppOptions } from "./api/app.js";
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
  /** Benchmarks switch middleware off here. */
  readonly app?: Pick<AppOptions, "httpMetrics" | "requestLogging">;
}

export interface Platform {
  readonly app: Express;
  readonly jobs: JobSystem;
  readonly service: PipelineService;
  readonly sourceChecks: SourceCheckScheduler;
  /** Declares queues, then starts workers and schedulers as ROLES says. */
  start(): Promise<void>;
  listen(port: number, host?: string): Promise<Server>;
  /** Stops accepting requests, drains the jobs, stops schedulers. Connections stay open. */
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
  const jobs = createJobSystem({ config, db, broker, logger, metrics, engineConfig: opts.engineConfig });
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

  const readiness = {
    postgres: () => db.ping(),
    rabbitmq: async () => {
      if (!broker.ready) throw new Error("not connected");
    },
  };
  metrics.gauge(dependencyUp, async (g) => {
    for (const [name, check] of Object.entries(readiness)) g.set({ dependency: name }, await check().then(() => 1, () => 0));
  });
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

  let server: Server | undefined;
  return {
    app,
    jobs,
    service,
    sourceChecks,
    async start() {
      await jobs.start();
      if (config.ROLES.includes("workers")) jobs.engine.startWorkers(config.JOB_TYPES);
      if (config.ROLES.includes("scheduler")) {
        jobs.startSchedulers();
        sourceChecks.start();
      }
    },
    async listen(port, host = config.HOST) {
      const s = app.listen(port, host);
      await new Promise<void>((resolve, reject) => {
        s.once("listening", resolve);
        s.once("error", reject);
      });
      server = s;
      return s;
    },
    async stop(deadlineMs) {
      const closing = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      server?.closeIdleConnections();
      await sourceChecks.stop();
      await jobs.stop(deadlineMs);
      await closing;
    },
  };
}
