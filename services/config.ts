/**
 * Process configuration from the environment, validated once at start-up. A bad value fails
 * with a message that names the variable. Every default here is what `npm start` uses on a
 * fresh machine.
 */
import { z } from "zod";
import { METRICS_PORT } from "../model/workloads.js";
import { DEFAULT_RETENTION } from "./jobs/retention.js";
import { DELIVERY_LIMIT_BACKSTOP } from "./jobs/topology.js";
import { JOB_TYPES, type JobType } from "./jobs/types.js";

const csv = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));
const int = (def: number) => z.coerce.number().int().nonnegative().default(def);
/** `type=days`, as in JOB_RETENTION_DAYS_BY_TYPE. */
const retentionPair = z.string().transform((pair, ctx) => {
  const m = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(pair);
  if (!m || !(JOB_TYPES as readonly string[]).includes(m[1]!) || Number(m[2]) <= 0) {
    ctx.addIssue({ code: "custom", message: `expected <job type>=<days> with a type of ${JOB_TYPES.join(", ")} and days > 0, got "${pair}"` });
    return z.NEVER;
  }
  return [m[1] as JobType, Number(m[2])] as const;
});
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

export const configSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** The application port: /v1 (api role), /healthz and the yes/no /readyz. */
  PORT: int(3000),
  /** The metrics listener: /metrics and the detailed /readyz, for Prometheus and the kubelet only. */
  METRICS_PORT: int(METRICS_PORT),
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
   * serves /healthz and /readyz on PORT and /metrics on METRICS_PORT; only the api role serves /v1.
   */
  ROLES: csv.pipe(z.array(z.enum(["api", "workers", "scheduler"]))).default(["api", "workers", "scheduler"]),
  /** Which job types this process's workers consume (one Deployment per type in production). */
  JOB_TYPES: csv.pipe(z.array(z.enum(JOB_TYPES))).default([...JOB_TYPES]),
  /** Bearer tokens for every /v1 endpoint outside /v1/admin (reads and writes). */
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
  /** The work queues' x-delivery-limit: the broker's backstop against a message that crashes every consumer. */
  JOB_DELIVERY_LIMIT: z.coerce.number().int().positive().default(DELIVERY_LIMIT_BACKSTOP),
  /** Completed jobs are removed this many days after they finished (dead ones are archived, never removed). */
  JOB_RETENTION_DAYS: z.coerce.number().positive().default(DEFAULT_RETENTION.defaultDays),
  /** Per-type retention in days, e.g. `image=3,push=30`; types not listed use JOB_RETENTION_DAYS. */
  JOB_RETENTION_DAYS_BY_TYPE: csv.pipe(z.array(retentionPair)).default([]).transform((pairs) => Object.fromEntries(pairs) as Partial<Record<JobType, number>>),
  /** How often the retention pass runs, and how many rows one DELETE removes (each batch is its own short transaction). */
  JOB_RETENTION_INTERVAL_MS: int(60_000),
  JOB_RETENTION_BATCH: z.coerce.number().int().positive().default(DEFAULT_RETENTION.batch),
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
  /** How often the scheduler role removes image objects no product refers to any more; 0 turns it off. */
  IMAGE_GC_INTERVAL_MS: int(3_600_000),
  /** Objects younger than this are never removed (an image job may be about to record them). */
  IMAGE_GC_GRACE_MS: int(3_600_000),
  /** At most this many objects are removed per run. */
  IMAGE_GC_MAX_DELETES: int(1000),
  /** Refuse fetches whose host is or resolves (at connect time, every redirect hop) to a private/loopback address (SSRF guard). Off for local runs and tests. */
  BLOCK_PRIVATE_SOURCES: bool(false),
});

export type Config = z.infer<typeof configSchema>;

/** The shortest grace the image garbage collector may be configured with (an image job's timeout is 2 min). */
export const IMAGE_GC_MIN_GRACE_MS = 600_000;

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
  if (result.data.IMAGE_GC_GRACE_MS < IMAGE_GC_MIN_GRACE_MS) {
    problems.push(`IMAGE_GC_GRACE_MS: must be at least ${IMAGE_GC_MIN_GRACE_MS} ms (10 min), well past the longest an image job runs between storing an object and recording it`);
  }
  if (result.data.IMAGE_GC_MAX_DELETES < 1) problems.push("IMAGE_GC_MAX_DELETES: must be at least 1");
  if (result.data.METRICS_PORT !== 0 && result.data.METRICS_PORT === result.data.PORT) {
    problems.push(`METRICS_PORT: must differ from PORT (${result.data.PORT}); the metrics listener is kept off the application port`);
  }
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
