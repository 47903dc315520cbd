/**
 * Per-environment monitoring configuration: the one place that holds the runbook base URL,
 * the Grafana base URL, the Kubernetes namespace and the workload names alerts refer to.
 */
import type { Environment } from "../infra/environments.js";

export interface MonitoringConfig {
  /** Runbook links are `${runbookBaseUrl}/<alertname-lowercased>.md`. */
  readonly runbookBaseUrl: string;
  /** Grafana base URL; dashboard links are `${grafanaBaseUrl}/d/<uid>`. */
  readonly grafanaBaseUrl: string;
  /** Namespace the product workloads run in. */
  readonly namespace: string;
  /** Slack channel names per purpose. */
  readonly slack: { readonly alerts: string; readonly critical: string; readonly admins: string };
  /** Where the daily summary email goes. */
  readonly digestEmail: string;
  readonly emailFrom: string;
  readonly smarthost: string;
}

/** Runbooks live in this repository: one base URL per environment (same branch for all today). */
export const RUNBOOK_BASE_URL: Readonly<Record<Environment, string>> = {
  dev: "https://github.com/acme/product-platform/blob/main/runbooks",
  staging: "https://github.com/acme/product-platform/blob/main/runbooks",
  prod: "https://github.com/acme/product-platform/blob/main/runbooks",
};

export const GRAFANA_BASE_URL: Readonly<Record<Environment, string>> = {
  dev: "https://grafana.dev.acme.example",
  staging: "https://grafana.staging.acme.example",
  prod: "https://grafana.acme.example",
};

/** The Kubernetes workloads the alerts watch, by role. Infra names its Deployments the same way. */
export const WORKLOADS = {
  api: "api",
  frontend: "frontend",
  worker: "worker",
  /** CronJob that runs pg_dump to S3 every 30 minutes, so the newest dump stays inside the 1 h RPO. */
  backupCronJob: "db-backup",
} as const;

export function monitoringConfig(env: Environment): MonitoringConfig {
  return {
    runbookBaseUrl: RUNBOOK_BASE_URL[env],
    grafanaBaseUrl: GRAFANA_BASE_URL[env],
    namespace: "product-platform",
    slack: { alerts: `#alerts-${env}`, critical: `#incidents-${env}`, admins: `#platform-admins-${env}` },
    digestEmail: `oncall-digest+${env}@acme.example`,
    emailFrom: `alertmanager-${env}@acme.example`,
    smarthost: "email-smtp.eu-west-1.amazonaws.com:587",
  };
}

/** The single definition of a runbook link. */
export function runbookUrl(env: Environment, alertname: string): string {
  return `${RUNBOOK_BASE_URL[env]}/${alertname.toLowerCase()}.md`;
}

/** The single definition of a dashboard link. */
export function dashboardUrl(env: Environment, uid: string): string {
  return `${GRAFANA_BASE_URL[env]}/d/${uid}`;
}

/**
 * Job types of the engine (mirrors Prisma's JobType enum; tests/monitoring checks they agree).
 * Each type has its own queue, named after the type (the `queue` label of jobs_queue_depth).
 */
export const JOB_TYPES = ["import", "translation", "image", "source_check", "push"] as const;
export type JobTypeName = (typeof JOB_TYPES)[number];

/** Prometheus scrape job of the API pods (the Kubernetes Service name). */
export const API_SCRAPE_JOB = "api";
/** Blackbox exporter job and the URL it probes from outside the cluster. */
export const BLACKBOX_JOB = "blackbox-http";
export function apiProbeUrl(env: Environment): string {
  return env === "prod" ? "https://api.acme.example/healthz" : `https://api.${env}.acme.example/healthz`;
}
