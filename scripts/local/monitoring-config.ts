/**
 * The local Prometheus, blackbox exporter and Alertmanager configurations, rendered from the same
 * objects production uses, so the rules select the local series with production's label values:
 *   up{job="api", namespace="product-platform"}          API_SCRAPE_JOB, PRODUCT_NAMESPACE
 *   up{job="worker"}, dependency_up{job=...}             WORKLOADS.worker
 *   probe_success{job="blackbox-http", instance="<the environment's public API URL>"}
 *                                                         BLACKBOX_JOB, blackboxTargets(env); the
 *                                                         probe goes to the local URL (__param_target)
 *   jobs_queue_depth{queue="jobs.translation"}           the local queue namespace is stripped
 *                                                         (the shared broker needs one; production has none)
 * The Alertmanager config is alertmanagerConfig(env) with only the PagerDuty URL, the heartbeat
 * URL and the secret files (one of them holds the Slack webhook URL) pointing at the local
 * receiver, then the timing profile applied. (Alertmanager sends no email; the local receiver's
 * SMTP server takes the daily digest, ops/digest.ts.)
 */
import type { AlertmanagerConfig } from "../../alerts/alertmanager.js";
import { alertmanagerConfig, type AlertmanagerSecretName } from "../../alerts/alertmanager.js";
import { API_SCRAPE_JOB, BLACKBOX_EXPORTER, BLACKBOX_JOB, PRODUCT_NAMESPACE, SCHEDULER_SCRAPE_JOB, WORKLOADS } from "../../model/workloads.js";
import { scaleAlertmanagerConfig, scaleDuration, type TimingProfile } from "../../alerts/profile.js";
import { blackboxTargets, type EnvironmentModel } from "../../model/environments.js";

export { SCHEDULER_SCRAPE_JOB };

export interface AppTarget {
  /** host:port of the process's metrics endpoint. */
  readonly address: string;
  /** The pod label production's ServiceMonitor adds (here: the local process name). */
  readonly pod: string;
}

export interface LocalTargets {
  readonly api: AppTarget;
  readonly workers: readonly AppTarget[];
  readonly scheduler?: AppTarget;
  /** What the blackbox exporter really probes, by blackboxTargets() name ("api", "frontend"). */
  readonly probes: Readonly<Record<string, string>>;
  readonly blackboxExporter: string;
  /** Absent when the database is the embedded PGlite (nothing for postgres_exporter to reach). */
  readonly postgresExporter?: string;
  readonly nodeExporter: string;
  readonly rabbitmq: string;
  readonly alertmanager: string;
  /** host:port of the stand-in for kube-state-metrics, Argo Rollouts and the CloudWatch exporter (cluster-state.ts). */
  readonly clusterState?: string;
  /** The prefix the local platform's queues carry on the shared broker. */
  readonly queueNamespace: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function localPrometheusConfig(env: EnvironmentModel, profile: TimingProfile, targets: LocalTargets, rulesFile: string): Record<string, unknown> {
  const ns = escapeRegex(targets.queueNamespace);
  /** Production's queue names: the local namespace prefix is removed from the queue label. */
  const productionQueueNames = targets.queueNamespace ? [{ source_labels: ["queue"], regex: `${ns}(.+)`, target_label: "queue", replacement: "$1" }] : [];
  const app = (job: string, list: readonly AppTarget[]) => ({
    job_name: job,
    static_configs: list.map((t) => ({ targets: [t.address], labels: { namespace: PRODUCT_NAMESPACE, pod: t.pod } })),
    metric_relabel_configs: productionQueueNames,
  });
  const probes = blackboxTargets(env).map((t) => {
    const local = targets.probes[t.name];
    if (!local) throw new Error(`no local URL for the ${t.name} probe`);
    // The exporter probes the local URL; the series carry the environment's public URL as instance.
    return { targets: [targets.blackboxExporter], labels: { __param_target: local, instance: t.url } };
  });
  return {
    global: { scrape_interval: profile.scrapeInterval, scrape_timeout: profile.scrapeInterval, evaluation_interval: profile.evaluationInterval },
    rule_files: [rulesFile],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [targets.alertmanager] }] }] },
    scrape_configs: [
      app(API_SCRAPE_JOB, [targets.api]),
      ...(targets.workers.length ? [app(WORKLOADS.worker, targets.workers)] : []),
      ...(targets.scheduler ? [app(SCHEDULER_SCRAPE_JOB, [targets.scheduler])] : []),
      { job_name: BLACKBOX_JOB, metrics_path: "/probe", params: { module: [BLACKBOX_EXPORTER.module] }, static_configs: probes },
      ...(targets.postgresExporter ? [{ job_name: "postgres-exporter", static_configs: [{ targets: [targets.postgresExporter] }] }] : []),
      { job_name: "node-exporter", static_configs: [{ targets: [targets.nodeExporter] }] },
      // Its series carry their own namespace label, as kube-state-metrics' do (honor_labels).
      ...(targets.clusterState ? [{ job_name: "cluster-state", honor_labels: true, static_configs: [{ targets: [targets.clusterState] }] }] : []),
      {
        // RabbitMQ's own endpoint (rabbitmq_prometheus), per queue; only this platform's queues.
        job_name: "rabbitmq",
        metrics_path: "/metrics/per-object",
        static_configs: [{ targets: [targets.rabbitmq] }],
        metric_relabel_configs: [{ source_labels: ["queue"], regex: targets.queueNamespace ? `|${ns}.+` : ".*", action: "keep" }, ...productionQueueNames],
      },
    ],
  };
}

/** The blackbox exporter's module, as infra deploys it. */
export function localBlackboxConfig(): Record<string, unknown> {
  return {
    modules: {
      [BLACKBOX_EXPORTER.module]: { prober: "http", timeout: "5s", http: { valid_http_versions: ["HTTP/1.1", "HTTP/2.0"], follow_redirects: true, preferred_ip_protocol: "ip4" } },
    },
  };
}

export interface LocalReceiverEndpoints {
  readonly pagerdutyUrl: string;
  readonly heartbeatUrl: string;
  /** host:port of the receiver's SMTP server. */
  readonly smarthost: string;
  /** Where the secret files were written (the Slack one holds the receiver's webhook URL). */
  readonly secretFiles: Readonly<Record<AlertmanagerSecretName, string>>;
}

/** alertmanagerConfig(env) pointed at the local receiver, on the profile's time scale. */
export function localAlertmanagerConfig(env: EnvironmentModel, profile: TimingProfile, endpoints: LocalReceiverEndpoints): AlertmanagerConfig {
  const config = alertmanagerConfig(env, { pagerdutyUrl: endpoints.pagerdutyUrl, heartbeatUrl: endpoints.heartbeatUrl, secretFiles: endpoints.secretFiles });
  // Alertmanager sends no email (the daily digest is ops/digest.ts): the smarthost is the digest's.
  return scaleAlertmanagerConfig(config, profile.factor);
}

/** How long Prometheus waits before re-sending a firing alert: production's 1m on the profile's scale. */
export function alertResendDelay(profile: TimingProfile): string {
  return scaleDuration("1m", profile.factor);
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const;

/**
 * A config override for trying the maintenance window at any time: the named time interval
 * (MAINTENANCE_WINDOW) covers the whole current UTC day instead of Sunday 02:00-04:00. The
 * routes that mute on it, and those that do not, stay as rendered.
 */
export function withMaintenanceWindowCovering(config: AlertmanagerConfig, now: Date, name: string): AlertmanagerConfig {
  if (!config.time_intervals.some((t) => t.name === name)) throw new Error(`no time interval named ${name}`);
  return {
    ...config,
    time_intervals: config.time_intervals.map((t) =>
      t.name === name ? { name, time_intervals: [{ weekdays: [WEEKDAYS[now.getUTCDay()]!], times: [{ start_time: "00:00", end_time: "24:00" }], location: "UTC" }] } : t,
    ),
  };
}

/**
 * The opposite, for tests that expect warnings to reach Slack: the named time interval keeps
 * its hours but moves to the weekday three days after `now` (UTC), so a run of any length under
 * two days never falls inside it, whenever it starts. Without this, every such test fails on
 * Sundays from 02:00 to 04:00 UTC, inside the real window. The routes stay as rendered.
 */
export function withMaintenanceWindowElsewhere(config: AlertmanagerConfig, now: Date, name: string): AlertmanagerConfig {
  if (!config.time_intervals.some((t) => t.name === name)) throw new Error(`no time interval named ${name}`);
  const elsewhere = WEEKDAYS[(now.getUTCDay() + 3) % 7]!;
  return {
    ...config,
    time_intervals: config.time_intervals.map((t) => (t.name === name ? { name, time_intervals: t.time_intervals.map((i) => ({ ...i, weekdays: [elsewhere] })) } : t)),
  };
}
