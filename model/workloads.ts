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
  /** CronJob that runs pg_dump to S3 every 30 minutes, so the newest dump stays inside the 1 h RPO. */
  backupCronJob: "db-backup",
} as const;

/** Prometheus scrape job of the API pods (the Kubernetes Service name). */
export const API_SCRAPE_JOB = "api";
/** Blackbox exporter job: it probes the environment's public API and frontend URLs. */
export const BLACKBOX_JOB = "blackbox-http";
