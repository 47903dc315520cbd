/**
 * Names shared by the Pulumi program (which creates the objects) and the monitoring code (which
 * selects their series): the same in every environment, since each environment has its own cluster.
 */

/** Namespace of the product workloads. */
export const PRODUCT_NAMESPACE = "product-platform";

/** The Kubernetes workloads the alerts watch, by role. Infra names its objects the same way. */
export const WORKLOADS = {
  api: "api",
  frontend: "frontend",
  worker: "worker",
  /** The one scheduler Deployment (periodic source checks, outbox relay, stuck-job detection, image GC). */
  scheduler: "scheduler",
  /** CronJob that runs pg_dump to S3 every BACKUP_INTERVAL_MINUTES, so the newest dump stays inside the 1 h RPO. */
  backupCronJob: "db-backup",
  /** CronJob that runs the monthly restore drill (OPS_COMMANDS.restoreDrill, RESTORE_MODE=rds-pitr). */
  restoreDrillCronJob: "restore-drill",
} as const;

/** How often the db-backup CronJob runs, in minutes (its schedule): the newest dump stays inside the 1 h RPO. */
export const BACKUP_INTERVAL_MINUTES = 30;
/** A backup run that takes longer fails (the Job's activeDeadlineSeconds), before the next one is due. */
export const BACKUP_DEADLINE_SECONDS = 1500;

/**
 * The Deployment of the workers of one job type, `worker-<type>` as a DNS label (source_check ->
 * worker-source-check); its pods are named `<deployment>-<replicaset hash>-<pod hash>`.
 */
export function workerDeployment(type: string): string {
  return `${WORKLOADS.worker}-${type.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`;
}

/** Prometheus scrape job of the API pods (the Kubernetes Service name). */
export const API_SCRAPE_JOB = "api";
/** Prometheus scrape job of every worker pod (the headless `worker` Service's name). */
export const WORKER_SCRAPE_JOB = WORKLOADS.worker;
/** Prometheus scrape job of the scheduler pod (its headless Service's name). */
export const SCHEDULER_SCRAPE_JOB = WORKLOADS.scheduler;
/** Blackbox exporter job: it probes the environment's public API and frontend URLs. */
export const BLACKBOX_JOB = "blackbox-http";
/** The blackbox exporter: its Service (fullnameOverride), port and the module the probes use. */
export const BLACKBOX_EXPORTER = { name: "blackbox-exporter", port: 9115, module: "http_2xx" } as const;

/**
 * The ports every process listens on: the application port (the API's /v1 and the public
 * /healthz, /readyz) and the separate metrics listener (/metrics and the detailed readiness), which
 * only Prometheus reaches: the internet-facing load balancer targets the application port only.
 * services/config.ts defaults METRICS_PORT to this; infra sets both on the pods.
 */
export const APP_PORT = 8080;

/**
 * Where product image objects live in the images bucket (`products/<productId>/...`): the image
 * worker writes there, the image GC lists and deletes there, and their IAM roles are scoped to it.
 */
export const IMAGE_KEY_PREFIX = "products/";

/** Where the db-backup CronJob writes its pg_dump files in the dumps bucket (its DUMP_PREFIX; its role may write only there). */
export const DUMP_PREFIX = "pg_dump/";
export const METRICS_PORT = 9464;
