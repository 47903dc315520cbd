/**
 * The product workloads in their namespace:
 * - a pre-deploy migration Job (`npx prisma migrate deploy`), named after the image tag, that the
 *   API and the workers depend on, so a new version rolls out only after its migrations ran;
 * - the API as an Argo Rollouts canary gated by an AnalysisTemplate on the 5xx ratio, with probes,
 *   requests/limits, non-root read-only pods, a PodDisruptionBudget and an HPA (CPU);
 * - one worker Deployment per job type, scaled by a KEDA ScaledObject on its queue length;
 * - the scheduler, the 30-minute pg_dump CronJob (RPO) and the monthly restore drill;
 * - default-deny NetworkPolicies with explicit allows.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { APP_PORT, WORKLOADS, workerDeployment } from "../model/workloads.js";
import { workQueue } from "../services/jobs/topology.js";
import { httpRequestsTotal } from "../services/metrics.js";
import { WORKER_TYPES } from "./config.js";
import type { WorkerType } from "./config.js";
import type { PlatformContext } from "./context.js";
import { irsaRole, policyDocument } from "./cluster.js";
import type { Cluster } from "./cluster.js";
import type { Addons } from "./addons.js";
import { meta } from "./k8s.js";
import { MONITORING_NAMESPACE } from "./monitoring.js";

export { APP_PORT };
const PROMETHEUS_URL = `http://kube-prometheus-stack-prometheus.${MONITORING_NAMESPACE}.svc:9090`;

export interface WorkloadsArgs {
  readonly cluster: Cluster;
  readonly addons: Addons;
  /** Must exist before any CR of the monitoring CRDs (none here) - kept for ordering of ServiceMonitors' targets. */
  readonly databaseUrl: pulumi.Input<string>;
  readonly amqpUrl: pulumi.Input<string>;
  readonly database: { identifier: string; arn: pulumi.Input<string>; secretArn: pulumi.Input<string>; subnetGroupName: pulumi.Input<string>; securityGroupId: pulumi.Input<string> };
  readonly brokerSecretArn: pulumi.Input<string>;
  readonly images: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  readonly dumps: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  readonly vpcCidr: string;
  readonly loadBalancer: { securityGroupId: pulumi.Input<string>; certificateArn: pulumi.Input<string> };
}

export interface Workloads {
  readonly namespace: string;
  readonly apiLoadBalancerHostname: pulumi.Output<string>;
  readonly migrationJobName: string;
}

/** The restricted pod security context every workload uses. */
export const POD_SECURITY = { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } };
export const CONTAINER_SECURITY = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
const TMP_VOLUME = { name: "tmp", emptyDir: { sizeLimit: "256Mi" } };
const TMP_MOUNT = { name: "tmp", mountPath: "/tmp" };

function resources(cpu: string, memory: string, cpuLimit: string, memoryLimit: string) {
  return { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}

/** Kubernetes names: lowercase alphanumerics and dashes. */
export function dnsLabel(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}

/** The 5xx ratio of the API, a sum over a sum guarded for idle periods (the canary gate). */
export function apiErrorRateQuery(window = "2m"): string {
  const m = httpRequestsTotal.name;
  return `(sum(rate(${m}{job="${WORKLOADS.api}",status_code=~"5.."}[${window}])) / sum(rate(${m}{job="${WORKLOADS.api}"}[${window}]))) or on() vector(0)`;
}

export function workloads(ctx: PlatformContext, args: WorkloadsArgs): Workloads {
  const { cfg, prefix } = ctx;
  const app = cfg.app;
  const namespace = ctx.env.namespace;
  const image = `${app.imageRepository}:${app.imageTag}`;
  const opsImage = `${app.imageRepository}-ops:${app.imageTag}`;
  const k8sOpts = { provider: args.cluster.provider };
  const name = (n: string) => `${prefix}-${n}`;

  const ns = new k8s.core.v1.Namespace(name("ns-app"), { metadata: meta(cfg, namespace, undefined, { "pod-security.kubernetes.io/enforce": "restricted" }) }, { ...k8sOpts, dependsOn: args.cluster.ready });
  const base = { ...k8sOpts, dependsOn: [ns] };

  // ---- identities (IRSA) and secrets
  const readSecrets = { Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [args.database.secretArn, args.brokerSecretArn] };
  const roles = {
    api: irsaRole(ctx, args.cluster, "api", namespace, "api", { inline: policyDocument([readSecrets, { Action: ["s3:GetObject", "s3:PutObject"], Resource: [pulumi.interpolate`${args.images.arn}/*`] }]) }),
    worker: irsaRole(ctx, args.cluster, "worker", namespace, "worker", { inline: policyDocument([readSecrets]) }),
    imageWorker: irsaRole(ctx, args.cluster, "worker-image", namespace, "worker-image", {
      inline: policyDocument([readSecrets, { Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [pulumi.interpolate`${args.images.arn}/*`] }, { Action: ["s3:ListBucket"], Resource: [args.images.arn] }]),
    }),
    migrate: irsaRole(ctx, args.cluster, "migrate", namespace, "migrate", { inline: policyDocument([readSecrets]) }),
    dbBackup: irsaRole(ctx, args.cluster, "db-backup", namespace, "db-backup", { inline: policyDocument([{ Action: ["s3:PutObject"], Resource: [pulumi.interpolate`${args.dumps.arn}/*`] }]) }),
    restoreDrill: irsaRole(ctx, args.cluster, "restore-drill", namespace, "restore-drill", {
      inline: policyDocument([
        { Action: ["rds:DescribeDBInstances", "rds:DescribeDBInstanceAutomatedBackups", "rds:RestoreDBInstanceToPointInTime", "rds:CreateDBInstance", "rds:AddTagsToResource"], Resource: "*" },
        { Action: ["rds:DeleteDBInstance"], Resource: [`arn:aws:rds:${cfg.region}:*:db:${args.database.identifier}-drill-*`] },
      ]),
    }),
  };
  const serviceAccounts = Object.fromEntries(
    (
      [
        ["api", roles.api],
        ["worker", roles.worker],
        ["worker-image", roles.imageWorker],
        ["migrate", roles.migrate],
        ["db-backup", roles.dbBackup],
        ["restore-drill", roles.restoreDrill],
        ["scheduler", roles.worker],
      ] as const
    ).map(([sa, role]) => [
      sa,
      new k8s.core.v1.ServiceAccount(name(`sa-${sa}`), { metadata: meta(cfg, sa, namespace, {}, { "eks.amazonaws.com/role-arn": role.arn }), automountServiceAccountToken: true }, base),
    ]),
  );
  // Bearer tokens for the API's mutating endpoints and for /v1/admin (the service refuses to start
  // in production without them). Read them with `kubectl get secret app-secrets`; rotate by
  // replacing the RandomPassword (pulumi up --replace <urn>), which rolls the pods.
  const apiToken = pulumi.secret(new random.RandomPassword(name("api-token"), { length: 40, special: false }, base).result);
  const adminToken = pulumi.secret(new random.RandomPassword(name("admin-token"), { length: 40, special: false }, base).result);
  const appSecret = new k8s.core.v1.Secret(
    name("app-secrets"),
    { metadata: meta(cfg, "app-secrets", namespace), type: "Opaque", stringData: { DATABASE_URL: args.databaseUrl, AMQP_URL: args.amqpUrl, API_TOKENS: apiToken, ADMIN_TOKENS: adminToken } },
    base,
  );

  const commonEnv = [
    { name: "NODE_ENV", value: "production" },
    { name: "HOST", value: "0.0.0.0" },
    { name: "PORT", value: String(APP_PORT) },
    { name: "S3_REGION", value: cfg.region },
    { name: "S3_BUCKET", value: args.images.name },
    { name: "STORAGE_DRIVER", value: "s3" },
    { name: "BLOCK_PRIVATE_SOURCES", value: "true" },
    { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "DATABASE_URL" } } },
    { name: "AMQP_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "AMQP_URL" } } },
    { name: "API_TOKENS", valueFrom: { secretKeyRef: { name: "app-secrets", key: "API_TOKENS" } } },
    { name: "ADMIN_TOKENS", valueFrom: { secretKeyRef: { name: "app-secrets", key: "ADMIN_TOKENS" } } },
  ];
  // Worker and scheduler processes serve /healthz, /readyz and /metrics on APP_PORT too.
  const opsProbes = {
    ports: [{ name: "metrics", containerPort: APP_PORT }],
    readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 10, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
  };
  const podBase = (sa: string) => ({ serviceAccountName: sa, securityContext: POD_SECURITY, volumes: [TMP_VOLUME], automountServiceAccountToken: true });
  const container = (cname: string, extra: Record<string, unknown>) => ({ name: cname, image, imagePullPolicy: "IfNotPresent", securityContext: CONTAINER_SECURITY, volumeMounts: [TMP_MOUNT], ...extra });

  // ---- pre-deploy migration: a new Job per image tag; Pulumi waits for it to complete.
  const migrationJobName = dnsLabel(`migrate-${app.imageTag}`);
  const migration = new k8s.batch.v1.Job(
    name("migrate"),
    {
      metadata: meta(cfg, migrationJobName, namespace, { "app.kubernetes.io/name": "migrate", "app.kubernetes.io/component": "migration", "app.kubernetes.io/version": app.imageTag }),
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "migrate", "app.kubernetes.io/component": "migration", environment: cfg.environment, owner: cfg.owner } },
          spec: {
            ...podBase("migrate"),
            restartPolicy: "Never",
            containers: [container("migrate", { command: ["npx", "prisma", "migrate", "deploy"], env: commonEnv, resources: resources("200m", "256Mi", "1", "512Mi") })],
          },
        },
      },
    },
    { ...base, dependsOn: [ns, appSecret, serviceAccounts["migrate"]!], deleteBeforeReplace: true },
  );
  const afterMigration = { ...k8sOpts, dependsOn: [ns, appSecret, migration] };

  // ---- API: Services, AnalysisTemplate, Rollout (canary), HPA, PDB
  const apiLabels = { "app.kubernetes.io/name": WORKLOADS.api, "app.kubernetes.io/component": "api" };
  new k8s.core.v1.Service(
    name("svc-api"),
    { metadata: meta(cfg, WORKLOADS.api, namespace, apiLabels), spec: { selector: apiLabels, ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "metrics", port: APP_PORT, targetPort: "http" }] } },
    base,
  );
  const edge = new k8s.core.v1.Service(
    name("svc-api-public"),
    {
      metadata: meta(cfg, "api-public", namespace, { "app.kubernetes.io/name": WORKLOADS.api, "app.kubernetes.io/component": "edge" }, {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-security-groups": args.loadBalancer.securityGroupId,
        "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules": "true",
        "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": args.loadBalancer.certificateArn,
        "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "443",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/readyz",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTP",
      }),
      spec: { type: "LoadBalancer", selector: apiLabels, ports: [{ name: "https", port: 443, targetPort: "http" }] },
    },
    { ...base, dependsOn: [ns, args.addons.loadBalancerController] },
  );
  const analysis = new k8s.apiextensions.CustomResource(
    name("analysis-api-error-rate"),
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: meta(cfg, "api-error-rate", namespace),
      spec: {
        metrics: [
          {
            name: "error-rate",
            interval: "1m",
            count: 5,
            failureLimit: 1,
            successCondition: `result[0] < ${app.api.maxErrorRate}`,
            provider: { prometheus: { address: PROMETHEUS_URL, query: apiErrorRateQuery() } },
          },
        ],
      },
    },
    { ...base, dependsOn: [ns, args.addons.argoRollouts] },
  );
  const canarySteps = app.api.canarySteps.flatMap((s) => [{ setWeight: s.setWeight }, { pause: { duration: `${s.pauseMinutes}m` } }]);
  const rollout = new k8s.apiextensions.CustomResource(
    name("rollout-api"),
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: meta(cfg, WORKLOADS.api, namespace, apiLabels),
      spec: {
        replicas: app.api.minReplicas,
        revisionHistoryLimit: 5,
        selector: { matchLabels: apiLabels },
        strategy: {
          canary: {
            maxSurge: "25%",
            maxUnavailable: 0,
            analysis: { templates: [{ templateName: "api-error-rate" }], startingStep: 1 },
            steps: canarySteps,
          },
        },
        template: {
          metadata: { labels: { ...apiLabels, environment: cfg.environment, owner: cfg.owner } },
          spec: {
            ...podBase("api"),
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: apiLabels } }],
            containers: [
              container("api", {
                env: [...commonEnv, { name: "ROLES", value: "api" }],
                ports: [{ name: "http", containerPort: APP_PORT }],
                readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
                resources: resources("250m", "256Mi", "1", "512Mi"),
              }),
            ],
          },
        },
      },
    },
    // The HPA owns the replica count once the Rollout exists.
    { ...afterMigration, dependsOn: [...afterMigration.dependsOn, analysis, args.addons.argoRollouts, serviceAccounts["api"]!], ignoreChanges: ["spec.replicas"] },
  );
  new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    name("hpa-api"),
    {
      metadata: meta(cfg, WORKLOADS.api, namespace, apiLabels),
      spec: {
        scaleTargetRef: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: WORKLOADS.api },
        minReplicas: app.api.minReplicas,
        maxReplicas: app.api.maxReplicas,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: app.api.cpuTargetPercent } } }],
      },
    },
    { ...base, dependsOn: [ns, rollout] },
  );
  new k8s.policy.v1.PodDisruptionBudget(name("pdb-api"), { metadata: meta(cfg, WORKLOADS.api, namespace, apiLabels), spec: { minAvailable: 1, selector: { matchLabels: apiLabels } } }, base);

  // ---- workers: one Deployment per job type, scaled by KEDA on its queue's length
  const workerLabels = (type: WorkerType) => ({ "app.kubernetes.io/name": workerDeployment(type), "app.kubernetes.io/component": "worker", "jobs.platform/type": type });
  new k8s.core.v1.Service(
    name("svc-worker"),
    { metadata: meta(cfg, WORKLOADS.worker, namespace, { "app.kubernetes.io/name": WORKLOADS.worker, "app.kubernetes.io/component": "worker" }), spec: { clusterIP: "None", selector: { "app.kubernetes.io/component": "worker" }, ports: [{ name: "metrics", port: APP_PORT, targetPort: APP_PORT }] } },
    base,
  );
  const triggerAuth = new k8s.apiextensions.CustomResource(
    name("keda-rabbitmq-auth"),
    { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication", metadata: meta(cfg, "rabbitmq", namespace), spec: { secretTargetRef: [{ parameter: "host", name: "app-secrets", key: "AMQP_URL" }] } },
    { ...base, dependsOn: [ns, appSecret, args.addons.keda] },
  );
  for (const type of WORKER_TYPES) {
    const scaling = app.workers[type];
    const labelsFor = workerLabels(type);
    const deploymentName = labelsFor["app.kubernetes.io/name"];
    const sa = type === "image" ? "worker-image" : "worker";
    const deployment = new k8s.apps.v1.Deployment(
      name(`deploy-${deploymentName}`),
      {
        metadata: meta(cfg, deploymentName, namespace, labelsFor),
        spec: {
          // No replicas: KEDA's HPA owns the count.
          selector: { matchLabels: labelsFor },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: { labels: { ...labelsFor, environment: cfg.environment, owner: cfg.owner } },
            spec: {
              ...podBase(sa),
              terminationGracePeriodSeconds: 60,
              containers: [
                container("worker", {
                  env: [...commonEnv, { name: "ROLES", value: "workers" }, { name: "JOB_TYPES", value: type }],
                  ...opsProbes,
                  resources: type === "image" ? resources("500m", "512Mi", "2", "1Gi") : resources("200m", "256Mi", "1", "512Mi"),
                }),
              ],
            },
          },
        },
      },
      { ...afterMigration, dependsOn: [...afterMigration.dependsOn, serviceAccounts[sa]!], ignoreChanges: ["spec.replicas"] },
    );
    new k8s.apiextensions.CustomResource(
      name(`scaledobject-${deploymentName}`),
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: meta(cfg, deploymentName, namespace, labelsFor),
        spec: {
          scaleTargetRef: { name: deploymentName },
          minReplicaCount: scaling.minReplicas,
          maxReplicaCount: scaling.maxReplicas,
          pollingInterval: 15,
          cooldownPeriod: 300,
          triggers: [{ type: "rabbitmq", metadata: { protocol: "amqp", queueName: workQueue(type), mode: "QueueLength", value: String(scaling.queueLengthPerReplica) }, authenticationRef: { name: "rabbitmq" } }],
        },
      },
      { ...base, dependsOn: [ns, deployment, triggerAuth, args.addons.keda] },
    );
  }

  // ---- scheduler: one replica (periodic source checks, outbox, stuck-job detection)
  new k8s.apps.v1.Deployment(
    name("deploy-scheduler"),
    {
      metadata: meta(cfg, "scheduler", namespace, { "app.kubernetes.io/name": "scheduler", "app.kubernetes.io/component": "scheduler" }),
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { "app.kubernetes.io/name": "scheduler" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "scheduler", "app.kubernetes.io/component": "scheduler", environment: cfg.environment, owner: cfg.owner } },
          spec: { ...podBase("scheduler"), containers: [container("scheduler", { env: [...commonEnv, { name: "ROLES", value: "scheduler" }], ...opsProbes, resources: resources("100m", "128Mi", "500m", "256Mi") })] },
        },
      },
    },
    afterMigration,
  );

  // ---- database dumps every 30 minutes (keeps the newest dump inside the 1 h RPO)
  const opsPod = (sa: string, command: string[], env: k8s.types.input.core.v1.EnvVar[], res = resources("200m", "256Mi", "1", "1Gi")): k8s.types.input.core.v1.PodSpec => ({
    ...podBase(sa),
    restartPolicy: "Never",
    containers: [{ name: sa, image: opsImage, imagePullPolicy: "IfNotPresent", securityContext: CONTAINER_SECURITY, volumeMounts: [TMP_MOUNT, { name: "scripts", mountPath: "/scripts", readOnly: true }], command, env, resources: res }],
    volumes: [TMP_VOLUME, { name: "scripts", configMap: { name: "ops-scripts", defaultMode: 0o555 } }],
  });
  const scripts = new k8s.core.v1.ConfigMap(
    name("ops-scripts"),
    {
      metadata: meta(cfg, "ops-scripts", namespace),
      data: {
        "db-backup.sh": [
          "#!/bin/sh",
          "set -eu",
          'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
          'pg_dump --format=custom --no-owner "$DATABASE_URL" > /tmp/dump',
          'aws s3 cp /tmp/dump "s3://$DUMP_BUCKET/postgres/$stamp.dump" --sse aws:kms',
          "",
        ].join("\n"),
        "restore-drill.sh": [
          "#!/bin/sh",
          "# Monthly restore drill: restore the latest restorable time into a scratch instance,",
          "# check it answers and holds the schema, then delete it. A failure fails the Job (alerted).",
          "set -eu",
          'target="$SOURCE_DB-drill-$(date -u +%Y%m%d%H%M)"',
          'aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier "$SOURCE_DB" --target-db-instance-identifier "$target" \\',
          '  --use-latest-restorable-time --db-subnet-group-name "$SUBNET_GROUP" --vpc-security-group-ids "$SECURITY_GROUP" \\',
          '  --db-instance-class "$INSTANCE_CLASS" --no-multi-az --no-publicly-accessible --tags Key=purpose,Value=restore-drill',
          'trap \'aws rds delete-db-instance --db-instance-identifier "$target" --skip-final-snapshot --delete-automated-backups >/dev/null\' EXIT',
          'aws rds wait db-instance-available --db-instance-identifier "$target"',
          'host=$(aws rds describe-db-instances --db-instance-identifier "$target" --query "DBInstances[0].Endpoint.Address" --output text)',
          'url=$(printf "%s" "$DATABASE_URL" | sed -E "s#@[^:/]+#@$host#")',
          'psql "$url" -v ON_ERROR_STOP=1 -c "select count(*) from _prisma_migrations where finished_at is not null"',
          'echo "restore drill ok: $target"',
          "",
        ].join("\n"),
      },
    },
    base,
  );
  new k8s.batch.v1.CronJob(
    name("cronjob-db-backup"),
    {
      metadata: meta(cfg, WORKLOADS.backupCronJob, namespace, { "app.kubernetes.io/name": WORKLOADS.backupCronJob, "app.kubernetes.io/component": "backup" }),
      spec: {
        schedule: "*/30 * * * *",
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 1,
            activeDeadlineSeconds: 1500,
            template: {
              metadata: { labels: { "app.kubernetes.io/name": WORKLOADS.backupCronJob, environment: cfg.environment, owner: cfg.owner } },
              spec: opsPod("db-backup", ["/scripts/db-backup.sh"], [
                { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "DATABASE_URL" } } },
                { name: "DUMP_BUCKET", value: args.dumps.name },
              ]),
            },
          },
        },
      },
    },
    { ...base, dependsOn: [ns, scripts, appSecret] },
  );
  new k8s.batch.v1.CronJob(
    name("cronjob-restore-drill"),
    {
      metadata: meta(cfg, "restore-drill", namespace, { "app.kubernetes.io/name": "restore-drill", "app.kubernetes.io/component": "backup" }),
      spec: {
        schedule: "0 6 1 * *",
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 4 * 3600,
            template: {
              metadata: { labels: { "app.kubernetes.io/name": "restore-drill", environment: cfg.environment, owner: cfg.owner } },
              spec: opsPod("restore-drill", ["/scripts/restore-drill.sh"], [
                { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "DATABASE_URL" } } },
                { name: "SOURCE_DB", value: args.database.identifier },
                { name: "SUBNET_GROUP", value: args.database.subnetGroupName },
                { name: "SECURITY_GROUP", value: args.database.securityGroupId },
                { name: "INSTANCE_CLASS", value: cfg.rds.instanceClass },
                { name: "AWS_REGION", value: cfg.region },
              ], resources("100m", "128Mi", "500m", "256Mi")),
            },
          },
        },
      },
    },
    { ...base, dependsOn: [ns, scripts, appSecret] },
  );

  networkPolicies(ctx, namespace, args.vpcCidr, base);

  return { namespace, apiLoadBalancerHostname: edge.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? ""), migrationJobName };
}

/** Default deny in the app namespace, then only what each component needs. */
function networkPolicies(ctx: PlatformContext, namespace: string, vpcCidr: string, opts: pulumi.CustomResourceOptions): void {
  const { cfg, prefix } = ctx;
  const policy = (n: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
    new k8s.networking.v1.NetworkPolicy(`${prefix}-netpol-${n}`, { metadata: meta(cfg, n, namespace), spec }, opts);
  const tcp = (port: number) => ({ protocol: "TCP", port });
  policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  policy("allow-dns", {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] }],
  });
  // The NLB forwards client traffic to the API pods' IPs (ip targets keep the client address).
  policy("allow-api-ingress", { podSelector: { matchLabels: { "app.kubernetes.io/component": "api" } }, policyTypes: ["Ingress"], ingress: [{ ports: [tcp(APP_PORT)] }] });
  policy("allow-prometheus-scrape", {
    podSelector: {},
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } } }], ports: [tcp(APP_PORT)] }],
  });
  // PostgreSQL and RabbitMQ live in the VPC; AWS APIs (S3, Secrets Manager, STS) and the
  // translation/store APIs are HTTPS; importers and source checks fetch product pages over HTTP(S).
  policy("allow-egress-data", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [tcp(5432), tcp(5671), tcp(443)] }] });
  policy("allow-egress-https", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }], ports: [tcp(443)] }] });
  policy("allow-egress-http-fetchers", {
    podSelector: { matchExpressions: [{ key: "jobs.platform/type", operator: "In", values: ["import", "source_check", "image"] }] },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }], ports: [tcp(80)] }],
  });
}
