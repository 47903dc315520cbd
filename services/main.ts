/**
 * `npm start`: runs the product pipeline locally (API, workers and scheduler in one process,
 * or the roles named in ROLES). Fails fast with a clear message when the config is bad or the
 * broker is down. SIGTERM/SIGINT: stop accepting requests, drain in-flight jobs within
 * SHUTDOWN_DEADLINE_MS, then close the broker and the database.
 */
import { BrokerUnreachableError, connectBroker } from "./broker.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { openDatabase } from "./db/client.js";
import { createLogger } from "./logger.js";
import { MetricsRegistry } from "./metrics-registry.js";
import { createPlatform } from "./platform.js";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const metrics = new MetricsRegistry({ defaultMetrics: true });

  let broker;
  try {
    broker = await connectBroker({ url: config.AMQP_URL, connectTimeoutMs: config.AMQP_CONNECT_TIMEOUT_MS, logger });
  } catch (err) {
    if (err instanceof BrokerUnreachableError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }

  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    poolMax: config.DB_POOL_MAX,
    migrate: config.NODE_ENV !== "production",
    metrics,
    onMigrated: (r) => logger.info({ applied: r.applied, modified: r.modified }, "database migrations checked"),
  });
  logger.info({ database: db.kind }, db.kind === "pglite" ? "using the embedded PGlite database (set DATABASE_URL for Postgres)" : "using Postgres");

  const platform = createPlatform({ config, logger, metrics, db, broker });
  await platform.start();
  logger.info({ roles: config.ROLES, targetLanguages: config.TARGET_LANGUAGES }, "pipeline started");
  // Every role listens on both ports: the application port (/v1 for the api role, /healthz, a
  // yes/no /readyz) and the metrics listener (/metrics, the detailed /readyz) for Prometheus.
  await platform.listen(config.PORT, config.HOST);
  await platform.listenMetrics(config.METRICS_PORT, config.HOST);
  logger.info(
    { url: `http://${config.HOST}:${config.PORT}`, metricsUrl: `http://${config.HOST}:${config.METRICS_PORT}/metrics`, api: config.ROLES.includes("api") },
    "listening",
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("shutdown deadline exceeded; exiting");
      process.exit(1);
    }, config.SHUTDOWN_DEADLINE_MS + 2_000);
    deadline.unref();
    try {
      await platform.stop(config.SHUTDOWN_DEADLINE_MS);
      await broker.close();
      await db.close();
      logger.info("stopped");
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
