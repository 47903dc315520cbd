/**
 * Process configuration from the environment, validated once at start-up. A bad value fails
 * with a message that names the variable. Every default here is what `npm start` uses on a
 * fresh machine.
 */
import { z } from "zod";
import { JOB_TYPES } from "./jobs/types.js";

const csv = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));
const int = (def: number) => z.coerce.number().int().nonnegative().default(def);
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

export const configSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  PORT: int(3000),
  HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Postgres; when unset an embedded PGlite database is used (local runs only). */
  DATABASE_URL: z.string().url().optional(),
  PGLITE_DATA_DIR: z.string().optional(),
  DB_POOL_MAX: int(10),
  AMQP_URL: z.string().url().default("amqp://guest:guest@127.0.0.1:5672"),
  /** How long start-up waits for the broker before giving up with a clear message. */
  AMQP_CONNECT_TIMEOUT_MS: int(5000),
  /**
   * Which roles this process runs: the API, the workers, the scheduler, or all. Every process
   * serves /healthz, /readyz and /metrics on PORT; only the api role serves /v1.
   */
  ROLES: csv.pipe(z.array(z.enum(["api", "workers", "scheduler"]))).default(["api", "workers", "scheduler"]),
  /** Which job types this process's workers consume (one Deployment per type in production). */
  JOB_TYPES: csv.pipe(z.array(z.enum(JOB_TYPES))).default([...JOB_TYPES]),
  /** Bearer tokens allowed to call mutating endpoints. */
  API_TOKENS: csv.default(["dev-token"]),
  /** Bearer tokens allowed to call /v1/admin/*. */
  ADMIN_TOKENS: csv.default(["dev-admin-token"]),
  BODY_LIMIT: z.string().default("256kb"),
  RATE_LIMIT_PER_MINUTE: int(600),
  SHUTDOWN_DEADLINE_MS: int(25_000),
  /**
   * Local runs and the e2e suite only: serve PUT /v1/admin/fault-injection, which makes a share of
   * /v1 requests fail with 500 (services/api/fault-injection.ts). Refused when NODE_ENV=production.
   */
  FAULT_INJECTION: bool(false),

  // ---- job engine (services/jobs). Production defaults; tests may shrink delays.
  JOB_RETRY_BASE_MS: int(1000),
  JOB_RETRY_MAX_MS: int(60_000),
  JOB_MAX_RETRIES: int(5),
  JOB_CONCURRENCY: int(8),
  JOB_STUCK_CHECK_INTERVAL_MS: int(30_000),
  /** Default handler timeout per attempt; a job processing longer than this plus the grace is stuck. */
  JOB_TIMEOUT_MS: int(300_000),
  JOB_STUCK_GRACE_MS: int(60_000),
  /** Messages prefetched per type; 0 means twice the concurrency. */
  JOB_PREFETCH: int(0),
  /** How often unpublished jobs (the outbox) are published again after a broker outage. */
  JOB_OUTBOX_INTERVAL_MS: int(1000),
  /** Prefix for every job queue name (empty in production). */
  JOB_QUEUE_NAMESPACE: z.string().default(""),
  DEAD_JOB_RETENTION_DAYS: int(30),
  /** When the dead-job archiver runs: every N ms (default hourly). */
  DEAD_JOB_ARCHIVE_INTERVAL_MS: int(3_600_000),

  // ---- product pipeline (services/pipeline, services/workers)
  TARGET_LANGUAGES: csv.default(["de", "fr"]),
  TRANSLATION_URL: z.string().url().default("http://127.0.0.1:5000"),
  TRANSLATION_API_KEY: z.string().optional(),
  STORE_URL: z.string().url().default("http://127.0.0.1:4000"),
  STORE_API_TOKEN: z.string().optional(),
  STORAGE_DRIVER: z.enum(["local", "s3"]).default("local"),
  STORAGE_DIR: z.string().default("data/images"),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().optional(),
  /** S3-compatible endpoint (MinIO, LocalStack); unset for AWS. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_FORCE_PATH_STYLE: bool(false),
  AUTO_PUSH_ON_APPROVE: bool(false),
  SOURCE_CHECK_INTERVAL_MS: int(6 * 3_600_000),
  FETCH_TIMEOUT_MS: int(10_000),
  FETCH_MAX_BYTES: int(5 * 1024 * 1024),
  FETCH_MAX_REDIRECTS: int(3),
  /** Refuse source URLs on private/loopback addresses (SSRF guard). Off for local runs and tests. */
  BLOCK_PRIVATE_SOURCES: bool(false),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = configSchema.safeParse(defined);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  }
  const problems: string[] = [];
  if (result.data.STORAGE_DRIVER === "s3" && !result.data.S3_BUCKET) problems.push("S3_BUCKET: required when STORAGE_DRIVER=s3");
  if (result.data.NODE_ENV === "production") {
    // The local defaults are public knowledge; production must bring its own tokens and database.
    for (const key of ["API_TOKENS", "ADMIN_TOKENS"] as const) {
      if (defined[key] === undefined) problems.push(`${key}: required when NODE_ENV=production`);
      else if (result.data[key].some((t) => t.length < 24)) problems.push(`${key}: every token must be at least 24 characters in production`);
    }
    if (result.data.FAULT_INJECTION) problems.push("FAULT_INJECTION: must be off when NODE_ENV=production");
    if (!result.data.DATABASE_URL) problems.push("DATABASE_URL: required when NODE_ENV=production (the embedded database is for local runs)");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}
