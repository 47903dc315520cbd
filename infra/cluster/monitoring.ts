/**
 * Monitoring: the Prometheus Operator CRDs first (their own release), then kube-prometheus-stack
 * without CRDs, then everything that uses a CRD (PrometheusRule, ServiceMonitors, exporters with
 * ServiceMonitors, the blackbox exporter and its Probes), each ordered with dependsOn. Dashboards and rules are the very objects synth
 * renders (buildDashboards / prometheusRuleResource); Alertmanager's config is alertmanagerConfig(env)
 * and its secrets are files from a Kubernetes secret mounted at ALERTMANAGER_SECRETS_DIR.
 * The daily alert digest (OPS_COMMANDS.digest) runs here as a CronJob, next to the SMTP password,
 * with a NetworkPolicy that lets it reach only Prometheus, Alertmanager, DNS and the smarthost.
 */
import { basename } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ALERTMANAGER_SECRETS_DIR, ALERTMANAGER_SECRET_FILES, alertmanagerConfig, alertmanagerSecretNames } from "../../alerts/alertmanager.js";
import type { AlertmanagerSecretName } from "../../alerts/alertmanager.js";
import { API_SCRAPE_JOB, BLACKBOX_EXPORTER, BLACKBOX_JOB, SCHEDULER_SCRAPE_JOB, WORKLOADS } from "../../model/workloads.js";
import { blackboxTargets } from "../../model/environments.js";
import { FRONTEND_DEPLOY_QUERY, FRONTEND_DEPLOY_SIGNAL } from "../../model/delivery.js";
import { OPS_COMMANDS } from "../../ops/commands.js";
import { prometheusRuleResource } from "../../alerts/rules/index.js";
import { buildDashboards } from "../../dashboards/index.js";
import type { DashboardJson } from "../../dashboards/index.js";
import { IRSA_ANNOTATION, IRSA_SERVICE_ACCOUNTS, MONITORING_NAMESPACE } from "../service-accounts.js";
import type { ClusterContext } from "./context.js";
import { CHARTS, helmLabels, meta, release } from "./k8s.js";
import { CONTAINER_SECURITY, POD_SECURITY, resources, smallTmp } from "./pods.js";

export { MONITORING_NAMESPACE };
export const ALERTMANAGER_SECRET_NAME = "alertmanager-secrets";
/** The in-cluster URLs of Prometheus and Alertmanager (kube-prometheus-stack's Services). */
export const PROMETHEUS_URL = `http://kube-prometheus-stack-prometheus.${MONITORING_NAMESPACE}.svc:9090`;
export const ALERTMANAGER_URL = `http://kube-prometheus-stack-alertmanager.${MONITORING_NAMESPACE}.svc:9093`;
/** The daily digest CronJob: 07:00 UTC. */
export const DIGEST_CRONJOB = { name: "alert-digest", schedule: "0 7 * * *" } as const;

export { BLACKBOX_EXPORTER, blackboxTargets };

export interface MonitoringArgs {
  /** Secret values for Alertmanager, by the names in ALERTMANAGER_SECRET_FILES (those the environment's config reads). */
  readonly alertmanagerSecrets: Partial<Record<AlertmanagerSecretName, pulumi.Input<string>>>;
  /** postgres_exporter's URL (its own role, pg_monitor). */
  readonly databaseUrl: pulumi.Input<string>;
  readonly databaseIdentifier: pulumi.Input<string>;
  /** Read replicas whose CloudWatch ReplicaLag the exporter reports (the standby's own database while it replicates). */
  readonly replicaIdentifiers: pulumi.Input<string[]>;
  readonly broker: { managementUrl: pulumi.Input<string>; username: pulumi.Input<string>; password: pulumi.Input<string>; brokerName: pulumi.Input<string> };
  readonly cloudwatchExporterRoleArn: pulumi.Input<string>;
  /** The ops image (`<repo>-ops:<tag>`): the digest CronJob runs OPS_COMMANDS.digest from it. */
  readonly opsImage: pulumi.Input<string>;
}

export interface Monitoring {
  /** The CRD release: anything creating monitoring.coreos.com objects depends on it. */
  readonly crds: k8s.helm.v3.Release;
  readonly blackboxExporter: k8s.helm.v3.Release;
  readonly stack: k8s.helm.v3.Release;
  readonly dashboards: DashboardJson[];
}

/** ConfigMap data key for a dashboard (the Grafana sidecar loads every key as a file). */
export function dashboardFileName(d: DashboardJson): string {
  return `${d.uid}.json`;
}

export function monitoring(ctx: ClusterContext, args: MonitoringArgs): Monitoring {
  const { cfg, prefix } = ctx;
  const env = ctx.env;
  const big = env.tier === "prod";
  const k8sOpts = { provider: ctx.k8s };
  const labels = helmLabels(cfg);
  const ns = new k8s.core.v1.Namespace(`${prefix}-ns-monitoring`, { metadata: meta(cfg, MONITORING_NAMESPACE, undefined) }, k8sOpts);
  const base = { ...k8sOpts, dependsOn: [ns] };

  // 1. CRDs, on their own, before anything that uses them.
  const crds = release("prometheus-operator-crds", CHARTS.prometheusOperatorCrds, { namespace: MONITORING_NAMESPACE, labels, values: {} }, base);
  const afterCrds = { ...k8sOpts, dependsOn: [ns, crds] };

  // 2. Alertmanager's secrets: one key per file name under ALERTMANAGER_SECRETS_DIR.
  const secretData: Record<string, pulumi.Input<string>> = {};
  for (const name of alertmanagerSecretNames(env)) {
    const path = ALERTMANAGER_SECRET_FILES[name];
    if (!path.startsWith(`${ALERTMANAGER_SECRETS_DIR}/`)) throw new Error(`Alertmanager secret ${name} is not under ${ALERTMANAGER_SECRETS_DIR}: ${path}`);
    const value = args.alertmanagerSecrets[name];
    if (value === undefined) throw new Error(`Alertmanager's config for ${env.name} reads the secret ${name}, but none was given`);
    secretData[basename(path)] = value;
  }
  const amSecret = new k8s.core.v1.Secret(`${prefix}-alertmanager-secrets`, { metadata: meta(cfg, ALERTMANAGER_SECRET_NAME, MONITORING_NAMESPACE), type: "Opaque", stringData: secretData }, base);

  // Grafana's admin credentials: random, never the chart's default.
  const grafanaPassword = pulumi.secret(new random.RandomPassword(`${prefix}-grafana-admin`, { length: 24, special: false }).result);
  const grafanaSecret = new k8s.core.v1.Secret(`${prefix}-grafana-admin`, { metadata: meta(cfg, "grafana-admin", MONITORING_NAMESPACE), stringData: { "admin-user": "admin", "admin-password": grafanaPassword } }, base);

  // 3. kube-prometheus-stack without its CRDs.
  const stack = release(
    "kube-prometheus-stack",
    CHARTS.kubePrometheusStack,
    {
      namespace: MONITORING_NAMESPACE,
      installCrds: false,
      labels,
      values: {
        crds: { enabled: false },
        prometheus: {
          prometheusSpec: {
            retention: big ? "30d" : "7d",
            replicas: big ? 2 : 1,
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            // Probes (blackbox) are selected like ServiceMonitors: all of them, not only the chart's.
            probeSelectorNilUsesHelmValues: false,
            externalLabels: { environment: env.name },
            storageSpec: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: big ? "200Gi" : "50Gi" } } } } },
          },
        },
        alertmanager: {
          config: alertmanagerConfig(env),
          alertmanagerSpec: {
            replicas: big ? 3 : 1,
            volumes: [{ name: "alertmanager-secrets", secret: { secretName: ALERTMANAGER_SECRET_NAME } }],
            volumeMounts: [{ name: "alertmanager-secrets", mountPath: ALERTMANAGER_SECRETS_DIR, readOnly: true }],
          },
        },
        grafana: {
          defaultDashboardsEnabled: true,
          admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
          sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" } },
        },
      },
    },
    { ...k8sOpts, dependsOn: [ns, crds, amSecret, grafanaSecret] },
  );

  // 4. Dashboards: Grafana sidecar ConfigMaps, the same objects synth renders.
  const dashboards = buildDashboards(env);
  for (const d of dashboards) {
    new k8s.core.v1.ConfigMap(
      `${prefix}-dashboard-${d.uid}`,
      { metadata: meta(cfg, `dashboard-${d.uid}`.toLowerCase().replace(/[^a-z0-9-]/g, "-"), MONITORING_NAMESPACE, { grafana_dashboard: "1" }), data: { [dashboardFileName(d)]: JSON.stringify(d) } },
      base,
    );
  }

  // 5. Alert rules: the PrometheusRule synth renders, with the standard labels added.
  const rule = prometheusRuleResource(env) as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: unknown };
  new k8s.apiextensions.CustomResource(
    `${prefix}-prometheus-rules`,
    {
      apiVersion: rule.apiVersion,
      kind: rule.kind,
      metadata: { ...rule.metadata, namespace: rule.metadata.namespace ?? MONITORING_NAMESPACE, labels: { ...meta(cfg, rule.metadata.name, undefined).labels, ...rule.metadata.labels } },
      spec: rule.spec,
    },
    afterCrds,
  );

  // 6. ServiceMonitors for the API, the workers and the scheduler (Services defined in workloads.ts): their
  //    `metrics` port, the processes' separate metrics listener (METRICS_PORT).
  const appNamespace = env.namespace;
  for (const [name, component] of [
    [API_SCRAPE_JOB, "api"],
    [WORKLOADS.worker, "worker"],
    [SCHEDULER_SCRAPE_JOB, "scheduler"],
  ] as const) {
    new k8s.apiextensions.CustomResource(
      `${prefix}-servicemonitor-${name}`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: meta(cfg, name, MONITORING_NAMESPACE),
        spec: {
          namespaceSelector: { matchNames: [appNamespace] },
          selector: { matchLabels: { "app.kubernetes.io/component": component } },
          endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
          jobLabel: "app.kubernetes.io/name",
        },
      },
      afterCrds,
    );
  }

  // 7. Exporters: postgres_exporter (in-database stats), CloudWatch (replica lag, AWS Backup jobs,
  //    Amazon MQ), RabbitMQ management API (queue depths).
  const pgSecret = new k8s.core.v1.Secret(`${prefix}-postgres-exporter-dsn`, { metadata: meta(cfg, "postgres-exporter-dsn", MONITORING_NAMESPACE), stringData: { DATA_SOURCE_NAME: args.databaseUrl } }, base);
  release(
    "postgres-exporter",
    CHARTS.postgresExporter,
    { namespace: MONITORING_NAMESPACE, labels, values: { config: { datasourceSecret: { name: "postgres-exporter-dsn", key: "DATA_SOURCE_NAME" } }, serviceMonitor: { enabled: true }, securityContext: { runAsNonRoot: true } } },
    { ...k8sOpts, dependsOn: [crds, pgSecret] },
  );

  const cwSa = IRSA_SERVICE_ACCOUNTS.cloudwatchExporter;
  release(
    "cloudwatch-exporter",
    CHARTS.cloudwatchExporter,
    {
      namespace: MONITORING_NAMESPACE,
      labels,
      values: {
        // IRSA through the service account annotation (aws.role is kube2iam's); regional STS.
        aws: { stsRegional: { enabled: true } },
        // The chart enables an Ingress by default: the exporter is only scraped in-cluster.
        ingress: { enabled: false },
        serviceAccount: { create: true, name: cwSa.name, annotations: { [IRSA_ANNOTATION]: args.cloudwatchExporterRoleArn } },
        serviceMonitor: { enabled: true, interval: "60s" },
        config: pulumi
          .all([pulumi.output(args.databaseIdentifier), pulumi.output(args.replicaIdentifiers), pulumi.output(args.broker.brokerName)])
          .apply(([db, replicas, brokerName]) => cloudwatchExporterConfig(cfg.region, env.name, db, replicas, brokerName)),
      },
    },
    { ...k8sOpts, dependsOn: [crds] },
  );

  const mqSecret = new k8s.core.v1.Secret(`${prefix}-rabbitmq-exporter`, { metadata: meta(cfg, "rabbitmq-exporter", MONITORING_NAMESPACE), stringData: { "rabbit-password": args.broker.password } }, base);
  release(
    "rabbitmq-exporter",
    CHARTS.rabbitmqExporter,
    {
      namespace: MONITORING_NAMESPACE,
      labels,
      values: {
        rabbitmq: { url: args.broker.managementUrl, user: args.broker.username, existingPasswordSecret: "rabbitmq-exporter", existingPasswordSecretKey: "rabbit-password", capabilities: "bert,no_sort" },
        prometheus: { monitor: { enabled: true, interval: "30s" } },
      },
    },
    { ...k8sOpts, dependsOn: [crds, mqSecret] },
  );

  // 8. Blackbox exporter and its Probes: the external API /healthz and the frontend, with the
  //    job (jobName) and instance (the probed URL) labels the alert rules select probe_success by.
  const blackboxExporter = release(
    BLACKBOX_EXPORTER.name,
    CHARTS.blackboxExporter,
    {
      namespace: MONITORING_NAMESPACE,
      labels,
      values: {
        fullnameOverride: BLACKBOX_EXPORTER.name,
        replicas: big ? 2 : 1,
        service: { port: BLACKBOX_EXPORTER.port },
        config: { modules: { [BLACKBOX_EXPORTER.module]: { prober: "http", timeout: "5s", http: { valid_http_versions: ["HTTP/1.1", "HTTP/2.0"], follow_redirects: true, preferred_ip_protocol: "ip4" } } } },
        resources: { requests: { cpu: "25m", memory: "32Mi" }, limits: { memory: "128Mi" } },
      },
    },
    { ...k8sOpts, dependsOn: [crds] },
  );
  for (const target of blackboxTargets(env)) {
    new k8s.apiextensions.CustomResource(
      `${prefix}-probe-${target.name}`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "Probe",
        metadata: meta(cfg, target.name, MONITORING_NAMESPACE),
        spec: {
          jobName: BLACKBOX_JOB,
          interval: "30s",
          module: BLACKBOX_EXPORTER.module,
          prober: { url: `${BLACKBOX_EXPORTER.name}.${MONITORING_NAMESPACE}.svc:${BLACKBOX_EXPORTER.port}`, path: "/probe" },
          targets: { staticConfig: { static: [target.url] } },
        },
      },
      { ...k8sOpts, dependsOn: [ns, crds, blackboxExporter] },
    );
  }

  // 9. The daily alert digest by email, from Prometheus's ALERTS (ops/digest.ts).
  digest(ctx, { opsImage: args.opsImage, opts: { ...k8sOpts, dependsOn: [ns, amSecret] } });

  return { crds, blackboxExporter, stack, dashboards };
}

/**
 * The digest CronJob: OPS_COMMANDS.digest with its environment contract (PROMETHEUS_URL,
 * ALERTMANAGER_URL, SMTP_SMARTHOST, SMTP_FROM, SMTP_TO from env.monitoring, SMTP_PASSWORD_FILE
 * from Alertmanager's secret), and its NetworkPolicy: no ingress, egress only to DNS, Prometheus,
 * Alertmanager and the SMTP smarthost's port outside the VPC.
 */
function digest(ctx: ClusterContext, args: { opsImage: pulumi.Input<string>; opts: pulumi.CustomResourceOptions }): void {
  const { cfg, prefix, env } = ctx;
  const podLabels = { "app.kubernetes.io/name": DIGEST_CRONJOB.name, "app.kubernetes.io/component": "digest" };
  const smtpPort = Number(env.monitoring.smarthost.split(":").pop());
  const secretsDir = "/etc/digest/secrets";
  new k8s.batch.v1.CronJob(
    `${prefix}-cronjob-${DIGEST_CRONJOB.name}`,
    {
      metadata: meta(cfg, DIGEST_CRONJOB.name, MONITORING_NAMESPACE, podLabels),
      spec: {
        schedule: DIGEST_CRONJOB.schedule,
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 900,
            template: {
              metadata: { labels: { ...podLabels, environment: cfg.environment, owner: cfg.owner } },
              spec: {
                restartPolicy: "Never",
                securityContext: POD_SECURITY,
                automountServiceAccountToken: false,
                volumes: [smallTmp.volume, { name: "smtp", secret: { secretName: ALERTMANAGER_SECRET_NAME, items: [{ key: basename(ALERTMANAGER_SECRET_FILES.smtpPassword), path: "smtp-password" }] } }],
                containers: [
                  {
                    name: "digest",
                    image: args.opsImage,
                    imagePullPolicy: "IfNotPresent",
                    command: [...OPS_COMMANDS.digest],
                    securityContext: CONTAINER_SECURITY,
                    volumeMounts: [smallTmp.mount, { name: "smtp", mountPath: secretsDir, readOnly: true }],
                    env: [
                      { name: "PROMETHEUS_URL", value: PROMETHEUS_URL },
                      { name: "ALERTMANAGER_URL", value: ALERTMANAGER_URL },
                      { name: "SMTP_SMARTHOST", value: env.monitoring.smarthost },
                      { name: "SMTP_FROM", value: env.monitoring.emailFrom },
                      { name: "SMTP_TO", value: env.monitoring.digestEmail },
                      { name: "SMTP_PASSWORD_FILE", value: `${secretsDir}/smtp-password` },
                    ],
                    resources: resources("50m", "128Mi", "500m", "256Mi"),
                  },
                ],
              },
            },
          },
        },
      },
    },
    args.opts,
  );
  const tcp = (port: number) => ({ protocol: "TCP", port });
  const inMonitoring = (name: string) => ({ podSelector: { matchLabels: { "app.kubernetes.io/name": name } } });
  new k8s.networking.v1.NetworkPolicy(
    `${prefix}-netpol-${DIGEST_CRONJOB.name}`,
    {
      metadata: meta(cfg, DIGEST_CRONJOB.name, MONITORING_NAMESPACE),
      spec: {
        podSelector: { matchLabels: podLabels },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] },
          { to: [inMonitoring("prometheus")], ports: [tcp(9090)] },
          { to: [inMonitoring("alertmanager")], ports: [tcp(9093)] },
          { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [cfg.network.cidr] } }], ports: [tcp(smtpPort)] },
        ],
      },
    },
    args.opts,
  );
}

/** The CloudWatch exporter's global query window (cloudwatchExporterConfig): how old a datapoint Prometheus sees can be. */
export const CLOUDWATCH_PERIOD_SECONDS = 300;
export const CLOUDWATCH_DELAY_SECONDS = 600;

/**
 * The RPO a failover to the standby's replica gives while DatabaseReplicationUnhealthy is silent:
 * the last datapoint it evaluated (at most delay + period old) showed a lag at most the alert's
 * threshold, so the replica held everything written up to threshold + delay + period before the
 * failure, even if replication stopped right after that datapoint (runbooks/procedures/dr-failover.md).
 */
export function replicaFailoverRpoSeconds(lagThresholdSeconds: number): number {
  return lagThresholdSeconds + CLOUDWATCH_DELAY_SECONDS + CLOUDWATCH_PERIOD_SECONDS;
}


/**
 * The CloudWatch exporter's config: RDS replica lag (the in-region replica, and on a standby its
 * own database, the cross-region replica DatabaseReplicationUnhealthy watches), AWS Backup job
 * outcomes, Amazon MQ queues, and the outcome of this environment's frontend deployments (the
 * `Environment` dimension deploy-frontend.yml sends: its `environment` input, the environment's
 * name and GitHub environment).
 */
export function cloudwatchExporterConfig(region: string, environment: string, dbIdentifier: string, replicaIdentifiers: readonly string[], brokerName: string): string {
  const signal = FRONTEND_DEPLOY_SIGNAL;
  const metrics = [
    ...(replicaIdentifiers.length > 0
      ? [{ aws_namespace: "AWS/RDS", aws_metric_name: "ReplicaLag", aws_dimensions: ["DBInstanceIdentifier"], aws_dimension_select: { DBInstanceIdentifier: [...replicaIdentifiers] }, aws_statistics: ["Maximum"] }]
      : []),
    { aws_namespace: "AWS/RDS", aws_metric_name: "FreeStorageSpace", aws_dimensions: ["DBInstanceIdentifier"], aws_dimension_select: { DBInstanceIdentifier: [dbIdentifier] }, aws_statistics: ["Minimum"] },
    ...["NumberOfBackupJobsCompleted", "NumberOfBackupJobsFailed", "NumberOfBackupJobsAborted", "NumberOfCopyJobsFailed"].map((m) => ({
      aws_namespace: "AWS/Backup",
      aws_metric_name: m,
      aws_dimensions: ["ResourceType"],
      aws_dimension_select: { ResourceType: ["RDS"] },
      aws_statistics: ["Sum"],
      period_seconds: 3600,
      range_seconds: 86400,
    })),
    { aws_namespace: "AWS/AmazonMQ", aws_metric_name: "MessageCount", aws_dimensions: ["Broker", "VirtualHost", "Queue"], aws_dimension_select: { Broker: [brokerName] }, aws_statistics: ["Maximum"] },
    {
      aws_namespace: signal.namespace,
      aws_metric_name: signal.metricName,
      aws_dimensions: [signal.dimension],
      aws_dimension_select: { [signal.dimension]: [environment] },
      aws_statistics: [signal.statistic],
      period_seconds: FRONTEND_DEPLOY_QUERY.periodSeconds,
      range_seconds: FRONTEND_DEPLOY_QUERY.rangeSeconds,
      delay_seconds: FRONTEND_DEPLOY_QUERY.delaySeconds,
      use_get_metric_data: true,
      set_timestamp: false,
    },
  ];
  return JSON.stringify({ region, period_seconds: CLOUDWATCH_PERIOD_SECONDS, delay_seconds: CLOUDWATCH_DELAY_SECONDS, metrics });
}
