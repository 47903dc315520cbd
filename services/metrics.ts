/**
 * The metric catalog of the product pipeline: every metric the API and the workers expose.
 * Dashboards (dashboards/*.ts) and alert rules (alerts/rules/*.ts) import these objects;
 * never retype a metric name as a string elsewhere.
 */
import { defineMetric } from "./metric-def.js";

/** Latency buckets for HTTP requests, in seconds. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Buckets that fit jobs that take from milliseconds to minutes, in seconds. */
export const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;
/** Database query buckets; 0.1 s is the slow-query threshold the alerts use. */
export const DB_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] as const;
/** Review time buckets, in seconds: minutes to a week. */
export const REVIEW_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800] as const;

// ------------------------------------------------------------------- HTTP (api)
export const httpRequestsTotal = defineMetric({
  name: "http_requests_total",
  help: "HTTP requests handled, by method, route template and status code.",
  type: "counter",
  labelNames: ["method", "route", "status_code"],
  source: "api",
});
export const httpRequestDuration = defineMetric({
  name: "http_request_duration_seconds",
  help: "HTTP request latency in seconds, by method, route template and status code.",
  type: "histogram",
  labelNames: ["method", "route", "status_code"],
  buckets: HTTP_BUCKETS,
  source: "api",
});

// ------------------------------------------------------------------- jobs (engine)
export const jobsQueueDepth = defineMetric({
  name: "jobs_queue_depth",
  help: "Messages ready in each job queue, read from the broker at scrape time.",
  type: "gauge",
  labelNames: ["queue"],
  source: "api+worker",
});
export const jobsStartedTotal = defineMetric({
  name: "jobs_started_total",
  help: "Job attempts started, by job type.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const jobsCompletedTotal = defineMetric({
  name: "jobs_completed_total",
  help: "Jobs completed successfully, by job type.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const jobsFailedTotal = defineMetric({
  name: "jobs_failed_total",
  help: "Job attempts that failed (each failed attempt counts once), by job type.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const jobsRetriesTotal = defineMetric({
  name: "jobs_retries_total",
  help: "Retries scheduled, by job type and the attempt number that will run next.",
  type: "counter",
  labelNames: ["type", "attempt"],
  source: "worker",
});
export const jobsDeadLetteredTotal = defineMetric({
  name: "jobs_dead_lettered_total",
  help: "Jobs moved to the dead-letter queue after exhausting their retries, by job type.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const jobsDeadLetterSize = defineMetric({
  name: "jobs_dead_letter_size",
  help: "Dead jobs waiting for an operator (status dead, not archived), by job type; read at scrape time.",
  type: "gauge",
  labelNames: ["type"],
  source: "api",
});
export const jobsOldestWaitingSeconds = defineMetric({
  name: "jobs_oldest_waiting_seconds",
  help: "Seconds the oldest waiting job has waited since it became due (pending since its last state change, or failed with its retry due since run_at), by job type; 0 when none waits. Read from the jobs table at scrape time.",
  type: "gauge",
  labelNames: ["type"],
  source: "api+worker",
});
export const jobProcessingDuration = defineMetric({
  name: "job_processing_duration_seconds",
  help: "Time a job handler ran, in seconds, by job type and outcome (success or failure).",
  type: "histogram",
  labelNames: ["type", "outcome"],
  buckets: JOB_BUCKETS,
  source: "worker",
});
export const jobsInFlight = defineMetric({
  name: "jobs_in_flight",
  help: "Jobs being processed right now, by job type.",
  type: "gauge",
  labelNames: ["type"],
  source: "worker",
});
export const workerBusySecondsTotal = defineMetric({
  name: "worker_busy_seconds_total",
  help: "Seconds spent running handlers, summed over concurrent slots, by job type. Utilization = rate / worker_concurrency.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const workerConcurrency = defineMetric({
  name: "worker_concurrency",
  help: "Handler slots (prefetch/concurrency) configured per job type in this process.",
  type: "gauge",
  labelNames: ["type"],
  source: "worker",
});
export const jobsStuckDetectedTotal = defineMetric({
  name: "jobs_stuck_detected_total",
  help: "Jobs found processing longer than their type's timeout, by job type and action (requeued or failed).",
  type: "counter",
  labelNames: ["type", "action"],
  source: "worker",
});
export const jobsOutboxPending = defineMetric({
  name: "jobs_outbox_pending",
  help: "Jobs written to Postgres but not yet confirmed by the broker (the publish outbox).",
  type: "gauge",
  labelNames: [],
  source: "api+worker",
});
export const jobsArchivedTotal = defineMetric({
  name: "jobs_archived_total",
  help: "Dead jobs moved to the archive table by the retention task.",
  type: "counter",
  labelNames: [],
  source: "worker",
});
export const jobsRetentionRemovedTotal = defineMetric({
  name: "jobs_retention_removed_total",
  help: "Completed jobs removed by the retention task after their type's retention (JOB_RETENTION_DAYS), by job type.",
  type: "counter",
  labelNames: ["type"],
  source: "worker",
});
export const jobsRetentionOverdueSeconds = defineMetric({
  name: "jobs_retention_overdue_seconds",
  help: "How far past its type's retention the oldest completed job still in the table is (0 when retention is keeping up), by job type; read at scrape time.",
  type: "gauge",
  labelNames: ["type"],
  source: "worker",
});
export const jobsTableBytes = defineMetric({
  name: "jobs_table_bytes",
  help: "Size of the jobs table on disk, with its indexes and TOAST data (pg_total_relation_size); read at scrape time.",
  type: "gauge",
  labelNames: [],
  source: "api+worker",
});

// ------------------------------------------------------------------- business
export const productsImportedTotal = defineMetric({
  name: "products_imported_total",
  help: "Products created or updated by an import, by source host.",
  type: "counter",
  labelNames: ["source"],
  source: "worker",
});
export const productsPushedTotal = defineMetric({
  name: "products_pushed_total",
  help: "Products pushed to the store (first push only; idempotent re-pushes are not counted).",
  type: "counter",
  labelNames: [],
  source: "worker",
});
export const productsByStatus = defineMetric({
  name: "products_by_status",
  help: "Products per status, read from the database at scrape time.",
  type: "gauge",
  labelNames: ["status"],
  source: "api",
});
export const productReviewDuration = defineMetric({
  name: "product_review_duration_seconds",
  help: "Time from in_review to the reviewer's decision, in seconds, by decision.",
  type: "histogram",
  labelNames: ["decision"],
  buckets: REVIEW_BUCKETS,
  source: "api",
});
export const reviewActionsTotal = defineMetric({
  name: "review_actions_total",
  help: "Review decisions, by reviewer and decision (user activity).",
  type: "counter",
  labelNames: ["reviewer", "decision"],
  source: "api",
});
export const sourceChecksTotal = defineMetric({
  name: "source_checks_total",
  help: "Source checks finished, by outcome (available, gone, price_changed, error).",
  type: "counter",
  labelNames: ["outcome"],
  source: "worker",
});
export const sourceCheckDuration = defineMetric({
  name: "source_check_duration_seconds",
  help: "Latency of the source check request, in seconds.",
  type: "histogram",
  labelNames: ["outcome"],
  buckets: HTTP_BUCKETS,
  source: "worker",
});
export const translationsTotal = defineMetric({
  name: "translations_total",
  help: "Translation requests to the provider, by target language and outcome.",
  type: "counter",
  labelNames: ["language", "outcome"],
  source: "worker",
});
export const imagesProcessedTotal = defineMetric({
  name: "images_processed_total",
  help: "Images downloaded and processed, by outcome (ok, invalid, download_error).",
  type: "counter",
  labelNames: ["outcome"],
  source: "worker",
});
export const imageGcRunsTotal = defineMetric({
  name: "image_gc_runs_total",
  help: "Runs of the image garbage collector, by outcome (ok or error).",
  type: "counter",
  labelNames: ["outcome"],
  source: "worker",
});
export const imageGcObjectsRemovedTotal = defineMetric({
  name: "image_gc_objects_removed_total",
  help: "Image objects the garbage collector deleted from object storage (no product image refers to them any more).",
  type: "counter",
  labelNames: [],
  source: "worker",
});
export const imageGcBytesFreedTotal = defineMetric({
  name: "image_gc_bytes_freed_total",
  help: "Bytes of object storage freed by the image garbage collector.",
  type: "counter",
  labelNames: [],
  source: "worker",
});

// ------------------------------------------------------------------- database (client side)
export const dbQueryDuration = defineMetric({
  name: "db_query_duration_seconds",
  help: "Database query latency seen by the application, in seconds, by model and operation.",
  type: "histogram",
  labelNames: ["model", "operation"],
  buckets: DB_BUCKETS,
  source: "api+worker",
});
export const dbPoolConnections = defineMetric({
  name: "db_pool_connections",
  help: "Connections in the application's Postgres pool, by state (total, idle, waiting).",
  type: "gauge",
  labelNames: ["state"],
  source: "api+worker",
});
export const dependencyUp = defineMetric({
  name: "dependency_up",
  help: "1 when the process can reach the dependency (postgres, rabbitmq), 0 otherwise; checked at scrape time.",
  type: "gauge",
  labelNames: ["dependency"],
  source: "api+worker",
});

/** Every application metric, for registration and for the catalog tests. */
export const APP_METRICS = [
  httpRequestsTotal,
  httpRequestDuration,
  jobsQueueDepth,
  jobsStartedTotal,
  jobsCompletedTotal,
  jobsFailedTotal,
  jobsRetriesTotal,
  jobsDeadLetteredTotal,
  jobsDeadLetterSize,
  jobsOldestWaitingSeconds,
  jobProcessingDuration,
  jobsInFlight,
  workerBusySecondsTotal,
  workerConcurrency,
  jobsStuckDetectedTotal,
  jobsOutboxPending,
  jobsArchivedTotal,
  jobsRetentionRemovedTotal,
  jobsRetentionOverdueSeconds,
  jobsTableBytes,
  productsImportedTotal,
  productsPushedTotal,
  productsByStatus,
  productReviewDuration,
  reviewActionsTotal,
  sourceChecksTotal,
  sourceCheckDuration,
  translationsTotal,
  imagesProcessedTotal,
  imageGcRunsTotal,
  imageGcObjectsRemovedTotal,
  imageGcBytesFreedTotal,
  dbQueryDuration,
  dbPoolConnections,
  dependencyUp,
] as const;
