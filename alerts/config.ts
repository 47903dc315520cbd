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

/** Namespace of the product workloads (the same in every environment: one cluster per environment). */
export const PRODUCT_NAMESPACE = "product-platform";

export function monitoringConfig(env: Environment): MonitoringConfig {
  return {
    runbookBaseUrl: RUNBOOK_BASE_URL[env],
    grafanaBaseUrl: GRAFANA_BASE_URL[env],
    namespace: PRODUCT_NAMESPACE,
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

/** Prometheus scrape job of the API pods (the Kubernetes Service name). */
export const API_SCRAPE_JOB = "api";
/** Blackbox exporter job and the URL it probes from outside the cluster. */
export const BLACKBOX_JOB = "blackbox-http";
/** The frontend (static SPA on CloudFront), probed by the blackbox exporter. */
export function frontendProbeUrl(env: Environment): string {
  return env === "prod" ? "https://app.acme.example/" : `https://app.${env}.acme.example/`;
}
export function apiProbeUrl(env: Environment): string {
  return env === "prod" ? "https://api.acme.example/healthz" : `https://api.${env}.acme.example/healthz`;
}
