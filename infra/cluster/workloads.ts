/**
 * The product workloads in their namespace:
 * - before each version: the db-roles Job (OPS_COMMANDS.dbRoles as the master user: one database
 *   role per component) and the migration Job (OPS_COMMANDS.migrate as the schema owner), named
 *   after the image tag; the API and the workers depend on them, so a new version rolls out only
 *   after its migrations ran;
 * - the API as an Argo Rollouts canary gated by an AnalysisTemplate on the 5xx ratio, with probes,
 *   requests/limits, non-root read-only pods, a PodDisruptionBudget and an HPA (CPU); the
 *   internet-facing NLB (TLS 1.3/1.2 policy) targets the application port only;
 * - one worker Deployment per job type, scaled by a KEDA ScaledObject on its queue length;
 * - the scheduler, the 30-minute pg_dump CronJob (RPO) and the monthly restore drill, both running
 *   the committed ops commands from the ops image;
 * - default-deny NetworkPolicies with explicit allows (network-policies.ts).
 *
 * Every process listens on APP_PORT (the API's /v1 and the public /healthz, /readyz) and on
 * METRICS_PORT (/metrics and the detailed readiness), which only Prometheus and the kubelet reach.
 * Each component logs in to the database as its own role (its own `db-<component>` Secret).
 *
 * On a standby whose database is still a replica (read-only), no Job writes to it: no db-roles,
 * migration, dump or drill, workers paused at zero and no scheduler; the API serves reads. The
 * failover procedure's platform:dr.promoted brings them up.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATABASE_COMPONENTS, DATABASE_ROLES, rolePasswordEnv } from "../../model/database-roles.js";
import type { DatabaseComponent } from "../../model/database-roles.js";
import { APP_PORT, BACKUP_DEADLINE_SECONDS, BACKUP_INTERVAL_MINUTES, METRICS_PORT, WORKLOADS, workerDeployment } from "../../model/workloads.js";
import { OPS_COMMANDS } from "../../ops/commands.js";
import { workQueue } from "../../services/jobs/topology.js";
import { httpRequestsTotal } from "../../services/metrics.js";
import { WORKER_TYPES } from "../config.js";
import type { WorkerType } from "../config.js";
import { IRSA_ANNOTATION, IRSA_SERVICE_ACCOUNTS, PRODUCT_SERVICE_ACCOUNTS, irsaServiceAccount, serviceAccountKey } from "../service-accounts.js";
import type { ServiceAccountRef } from "../service-accounts.js";
import { DUMP_PREFIX, NLB_TLS_POLICY, NLB_TLS_POLICY_ANNOTATION } from "../settings.js";
import type { Addons } from "./addons.js";
import type { ClusterContext } from "./context.js";
import { meta } from "./k8s.js";
import { PROMETHEUS_URL } from "./monitoring.js";
import { networkPolicies } from "./network-policies.js";
import { CONTAINER_SECURITY, POD_SECURITY, appTmp, dnsLabel, resources, smallTmp } from "./pods.js";

export { APP_PORT, METRICS_PORT, NLB_TLS_POLICY };

export interface WorkloadsArgs {
  readonly addons: Addons;
  readonly imageRepository: pulumi.Input<string>;
  readonly amqpUrl: pulumi.Input<string>;
  readonly database: {
    identifier: pulumi.Input<string>;
    subnetGroupName: pulumi.Input<string>;
    securityGroupId: pulumi.Input<string>;
    /** One URL per component role (secret). */
    urls: pulumi.Input<Record<DatabaseComponent, string>>;
    /** The master user's URL (secret): the db-roles Job only. */
    masterUrl: pulumi.Input<string>;
    /** The component roles' passwords (secret), which the db-roles Job sets. */
    rolePasswords: pulumi.Input<Record<DatabaseComponent, string>>;
    /** False on a standby whose database is a read-only replica. */
    writable: boolean;
  };
  readonly irsaRoleArns: pulumi.Input<Record<string, string>>;
  readonly images: { name: pulumi.Input<string> };
  readonly dumps: { name: pulumi.Input<string> };
  readonly vpcCidr: string;
  readonly loadBalancer: { securityGroupId: pulumi.Input<string>; certificateArn: pulumi.Input<string> };
}

export interface Workloads {
  readonly namespace: string;
  readonly apiLoadBalancerHostname: pulumi.Output<string>;
  readonly migrationJobName?: string;
}

/** The 5xx ratio of the API, a sum over a sum guarded for idle periods (the canary gate). */
export function apiErrorRateQuery(window = "2m"): string {
  const m = httpRequestsTotal.name;
  return `(sum(rate(${m}{job="${WORKLOADS.api}",status_code=~"5.."}[${window}])) / sum(rate(${m}{job="${WORKLOADS.api}"}[${window}]))) or on() vector(0)`;
}

/** The Secret holding one component's DATABASE_URL. */
export function databaseSecretName(component: DatabaseComponent): string {
  return `db-${component}`;
}

const DB_MASTER_SECRET = "db-master";

export function workloads(ctx: ClusterContext, args: WorkloadsArgs): Workloads {
  const { cfg, prefix } = ctx;
  const app = cfg.app;
  const namespace = ctx.env.namespace;
  const writable = args.database.writable;
  const image = pulumi.interpolate`${args.imageRepository}:${app.imageTag}`;
  const opsImage = pulumi.interpolate`${args.imageRepository}-ops:${app.imageTag}`;
  const k8sOpts = { provider: ctx.k8s };
  const name = (n: string) => `${prefix}-${n}`;

  const ns = new k8s.core.v1.Namespace(name("ns-app"), { metadata: meta(cfg, namespace, undefined, { "pod-security.kubernetes.io/enforce": "restricted" }) }, k8sOpts);
  const base = { ...k8sOpts, dependsOn: [ns] };

  // ---- identities: one IRSA role per service account that calls AWS, none for the others.
  const roleArn = (sa: ServiceAccountRef) =>
    pulumi.output(args.irsaRoleArns).apply((arns) => {
      const arn = arns[serviceAccountKey(sa)];
      if (!arn) throw new Error(`the AWS stack exports no IRSA role for ${serviceAccountKey(sa)}`);
      return arn;
    });
  const serviceAccounts: Record<string, k8s.core.v1.ServiceAccount> = {};
  for (const saName of PRODUCT_SERVICE_ACCOUNTS) {
    const sa = irsaServiceAccount(namespace, saName);
    serviceAccounts[saName] = new k8s.core.v1.ServiceAccount(
      name(`sa-${saName}`),
      { metadata: meta(cfg, saName, namespace, {}, sa ? { [IRSA_ANNOTATION]: roleArn(sa) } : undefined), automountServiceAccountToken: sa !== undefined },
      base,
    );
  }
  const hasRole = (sa: string) => irsaServiceAccount(namespace, sa) !== undefined;

  // ---- secrets. Bearer tokens for the API's mutating endpoints and for /v1/admin (the service
  // refuses to start in production without them). Read them with `kubectl get secret app-secrets`;
  // rotate by replacing the RandomPassword (pulumi up --replace <urn>), which rolls the pods.
  const apiToken = pulumi.secret(new random.RandomPassword(name("api-token"), { length: 40, special: false }, base).result);
  const adminToken = pulumi.secret(new random.RandomPassword(name("admin-token"), { length: 40, special: false }, base).result);
  const appSecret = new k8s.core.v1.Secret(name("app-secrets"), { metadata: meta(cfg, "app-secrets", namespace), type: "Opaque", stringData: { AMQP_URL: args.amqpUrl, API_TOKENS: apiToken, ADMIN_TOKENS: adminToken } }, base);
  const urls = pulumi.secret(pulumi.output(args.database.urls));
  const dbSecrets = Object.fromEntries(
    DATABASE_COMPONENTS.map((c) => [
      c,
      new k8s.core.v1.Secret(name(`db-${c}`), { metadata: meta(cfg, databaseSecretName(c), namespace), type: "Opaque", stringData: { DATABASE_URL: urls.apply((u) => u[c]) } }, base),
    ]),
  ) as Record<DatabaseComponent, k8s.core.v1.Secret>;
  const databaseUrl = (c: DatabaseComponent) => ({ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: databaseSecretName(c), key: "DATABASE_URL" } } });
  const secretsOf = (c: DatabaseComponent) => [appSecret, dbSecrets[c]];

  const commonEnv = [
    { name: "NODE_ENV", value: "production" },
    { name: "HOST", value: "0.0.0.0" },
    { name: "PORT", value: String(APP_PORT) },
    { name: "METRICS_PORT", value: String(METRICS_PORT) },
    { name: "S3_REGION", value: cfg.region },
    { name: "S3_BUCKET", value: args.images.name },
    { name: "STORAGE_DRIVER", value: "s3" },
    { name: "BLOCK_PRIVATE_SOURCES", value: "true" },
    { name: "AMQP_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "AMQP_URL" } } },
    { name: "API_TOKENS", valueFrom: { secretKeyRef: { name: "app-secrets", key: "API_TOKENS" } } },
    { name: "ADMIN_TOKENS", valueFrom: { secretKeyRef: { name: "app-secrets", key: "ADMIN_TOKENS" } } },
  ];
  // Every process: the application port (public /healthz and /readyz) and the metrics listener.
  // The kubelet's readiness is the detailed one on the metrics listener, liveness the app port's.
  const appPorts = [
    { name: "http", containerPort: APP_PORT },
    { name: "metrics", containerPort: METRICS_PORT },
  ];
  const probes = {
    readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
  };
  const podBase = (sa: string) => ({ serviceAccountName: sa, securityContext: POD_SECURITY, volumes: [appTmp.volume], automountServiceAccountToken: hasRole(sa) });
  const container = (cname: string, extra: Record<string, unknown>) => ({ name: cname, image, imagePullPolicy: "IfNotPresent", securityContext: CONTAINER_SECURITY, volumeMounts: [appTmp.mount], ...extra });
  const opsPod = (sa: string, command: readonly string[], env: k8s.types.input.core.v1.EnvVar[], res = resources("100m", "256Mi", "1", "512Mi")): k8s.types.input.core.v1.PodSpec => ({
    serviceAccountName: sa,
    automountServiceAccountToken: hasRole(sa),
    securityContext: POD_SECURITY,
    restartPolicy: "Never",
    volumes: [smallTmp.volume],
    containers: [{ name: sa, image: opsImage, imagePullPolicy: "IfNotPresent", securityContext: CONTAINER_SECURITY, volumeMounts: [smallTmp.mount], command: [...command], env, resources: res }],
  });

  // ---- before the new version: component roles, then migrations (only where the database is writable).
  let rolloutDeps: pulumi.Resource[] = [ns, appSecret];
  let migrationJobName: string | undefined;
  if (writable) {
    const passwords = pulumi.secret(pulumi.output(args.database.rolePasswords));
    const master = new k8s.core.v1.Secret(
      name("db-master"),
      {
        metadata: meta(cfg, DB_MASTER_SECRET, namespace),
        type: "Opaque",
        stringData: { DATABASE_URL: args.database.masterUrl, ...Object.fromEntries(DATABASE_COMPONENTS.map((c) => [rolePasswordEnv(DATABASE_ROLES[c].user), passwords.apply((p) => p[c])])) },
      },
      base,
    );
    const rolesJobName = dnsLabel(`db-roles-${app.imageTag}`);
    const roles = new k8s.batch.v1.Job(
      name("db-roles"),
      {
        metadata: meta(cfg, rolesJobName, namespace, { "app.kubernetes.io/name": "db-roles", "app.kubernetes.io/component": "migration", "app.kubernetes.io/version": app.imageTag }),
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 600,
          template: {
            metadata: { labels: { "app.kubernetes.io/name": "db-roles", "app.kubernetes.io/component": "migration", environment: cfg.environment, owner: cfg.owner } },
            spec: opsPod("db-roles", OPS_COMMANDS.dbRoles, [
              { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: DB_MASTER_SECRET, key: "DATABASE_URL" } } },
              { name: "DB_ROLES", value: JSON.stringify(DATABASE_COMPONENTS.map((c) => DATABASE_ROLES[c])) },
              ...DATABASE_COMPONENTS.map((c) => ({ name: rolePasswordEnv(DATABASE_ROLES[c].user), valueFrom: { secretKeyRef: { name: DB_MASTER_SECRET, key: rolePasswordEnv(DATABASE_ROLES[c].user) } } })),
            ]),
          },
        },
      },
      { ...base, dependsOn: [ns, master, serviceAccounts["db-roles"]!], deleteBeforeReplace: true },
    );
    migrationJobName = dnsLabel(`migrate-${app.imageTag}`);
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
              containers: [container("migrate", { command: [...OPS_COMMANDS.migrate], env: [...commonEnv, databaseUrl("migrate")], resources: resources("200m", "256Mi", "1", "512Mi") })],
            },
          },
        },
      },
      { ...base, dependsOn: [ns, appSecret, dbSecrets.migrate, roles, serviceAccounts["migrate"]!], deleteBeforeReplace: true },
    );
    rolloutDeps = [ns, appSecret, migration];
  }
  const afterMigration = (c: DatabaseComponent) => ({ ...k8sOpts, dependsOn: [...rolloutDeps, ...secretsOf(c)] });

  // ---- API: Services, AnalysisTemplate, Rollout (canary), HPA, PDB
  const apiLabels = { "app.kubernetes.io/name": WORKLOADS.api, "app.kubernetes.io/component": "api" };
  new k8s.core.v1.Service(
    name("svc-api"),
    {
      metadata: meta(cfg, WORKLOADS.api, namespace, apiLabels),
      spec: { selector: apiLabels, ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "metrics", port: METRICS_PORT, targetPort: "metrics" }] },
    },
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
        // AWS Load Balancer Controller annotations ("Service annotations", TLS): the listener's
        // security policy; without it the controller's default ELBSecurityPolicy-2016-08 allows TLS 1.0/1.1.
        [NLB_TLS_POLICY_ANNOTATION]: NLB_TLS_POLICY,
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/readyz",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTP",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": "traffic-port",
      }),
      // The application port only: the metrics listener is never behind the internet-facing NLB.
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
  const api = afterMigration("api");
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
        strategy: { canary: { maxSurge: "25%", maxUnavailable: 0, analysis: { templates: [{ templateName: "api-error-rate" }], startingStep: 1 }, steps: canarySteps } },
        template: {
          metadata: { labels: { ...apiLabels, environment: cfg.environment, owner: cfg.owner } },
          spec: {
            ...podBase("api"),
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: apiLabels } }],
            containers: [
              container("api", {
                env: [...commonEnv, databaseUrl("api"), { name: "ROLES", value: "api" }],
                ports: appPorts,
                ...probes,
                resources: resources("250m", "256Mi", "1", "512Mi"),
              }),
            ],
          },
        },
      },
    },
    // The HPA owns the replica count once the Rollout exists.
    { ...api, dependsOn: [...api.dependsOn, analysis, args.addons.argoRollouts, serviceAccounts["api"]!], ignoreChanges: ["spec.replicas"] },
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
    {
      metadata: meta(cfg, WORKLOADS.worker, namespace, { "app.kubernetes.io/name": WORKLOADS.worker, "app.kubernetes.io/component": "worker" }),
      spec: { clusterIP: "None", selector: { "app.kubernetes.io/component": "worker" }, ports: [{ name: "metrics", port: METRICS_PORT, targetPort: "metrics" }] },
    },
    base,
  );
  const triggerAuth = new k8s.apiextensions.CustomResource(
    name("keda-rabbitmq-auth"),
    { apiVersion: "keda.sh/v1alpha1", kind: "TriggerAuthentication", metadata: meta(cfg, "rabbitmq", namespace), spec: { secretTargetRef: [{ parameter: "host", name: "app-secrets", key: "AMQP_URL" }] } },
    { ...base, dependsOn: [ns, appSecret, args.addons.keda] },
  );
  const worker = afterMigration("worker");
  for (const type of WORKER_TYPES) {
    const scaling = app.workers[type];
    const labelsFor = workerLabels(type);
    const deploymentName = labelsFor["app.kubernetes.io/name"];
    const sa = type === "image" ? IRSA_SERVICE_ACCOUNTS.imageWorker.name : "worker";
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
                  env: [...commonEnv, databaseUrl("worker"), { name: "ROLES", value: "workers" }, { name: "JOB_TYPES", value: type }],
                  ports: appPorts,
                  ...probes,
                  resources: type === "image" ? resources("500m", "512Mi", "2", "1Gi") : resources("200m", "256Mi", "1", "512Mi"),
                }),
              ],
            },
          },
        },
      },
      { ...worker, dependsOn: [...worker.dependsOn, serviceAccounts[sa]!], ignoreChanges: ["spec.replicas"] },
    );
    new k8s.apiextensions.CustomResource(
      name(`scaledobject-${deploymentName}`),
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        // A read-only standby runs no workers: KEDA keeps the Deployment at zero while paused.
        metadata: meta(cfg, deploymentName, namespace, labelsFor, writable ? undefined : { "autoscaling.keda.sh/paused-replicas": "0" }),
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

  // ---- scheduler: one replica (periodic source checks, outbox, stuck-job detection); none on a read-only standby
  const schedulerLabels = { "app.kubernetes.io/name": WORKLOADS.scheduler, "app.kubernetes.io/component": "scheduler" };
  // Its metrics listener, for the scheduler ServiceMonitor (monitoring.ts): outbox relay, source checks, image GC.
  new k8s.core.v1.Service(
    name("svc-scheduler"),
    { metadata: meta(cfg, WORKLOADS.scheduler, namespace, schedulerLabels), spec: { clusterIP: "None", selector: schedulerLabels, ports: [{ name: "metrics", port: METRICS_PORT, targetPort: "metrics" }] } },
    base,
  );
  new k8s.apps.v1.Deployment(
    name("deploy-scheduler"),
    {
      metadata: meta(cfg, WORKLOADS.scheduler, namespace, schedulerLabels),
      spec: {
        replicas: writable ? 1 : 0,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { "app.kubernetes.io/name": WORKLOADS.scheduler } },
        template: {
          metadata: { labels: { ...schedulerLabels, environment: cfg.environment, owner: cfg.owner } },
          spec: {
            ...podBase("scheduler"),
            containers: [container("scheduler", { env: [...commonEnv, databaseUrl("scheduler"), { name: "ROLES", value: "scheduler" }], ports: appPorts, ...probes, resources: resources("100m", "128Mi", "500m", "256Mi") })],
          },
        },
      },
    },
    { ...afterMigration("scheduler"), dependsOn: [...afterMigration("scheduler").dependsOn, serviceAccounts["scheduler"]!] },
  );

  if (writable) {
    // ---- database dumps every 30 minutes (keeps the newest dump inside the 1 h RPO), streamed to S3.
    new k8s.batch.v1.CronJob(
      name("cronjob-db-backup"),
      {
        metadata: meta(cfg, WORKLOADS.backupCronJob, namespace, { "app.kubernetes.io/name": WORKLOADS.backupCronJob, "app.kubernetes.io/component": "backup" }),
        spec: {
          schedule: `*/${BACKUP_INTERVAL_MINUTES} * * * *`,
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 1,
              activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS,
              template: {
                metadata: { labels: { "app.kubernetes.io/name": WORKLOADS.backupCronJob, "app.kubernetes.io/component": "backup", environment: cfg.environment, owner: cfg.owner } },
                spec: opsPod(IRSA_SERVICE_ACCOUNTS.dbBackup.name, OPS_COMMANDS.dbBackup, [
                  databaseUrl("backup"),
                  { name: "DUMP_BUCKET", value: args.dumps.name },
                  { name: "DUMP_PREFIX", value: DUMP_PREFIX },
                  { name: "AWS_REGION", value: cfg.region },
                ], resources("200m", "256Mi", "1", "1Gi")),
              },
            },
          },
        },
      },
      { ...base, dependsOn: [ns, dbSecrets.backup, serviceAccounts[IRSA_SERVICE_ACCOUNTS.dbBackup.name]!] },
    );
    // ---- the monthly RDS point-in-time restore drill (ops/restore-drill.ts, RESTORE_MODE=rds-pitr)
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
                metadata: { labels: { "app.kubernetes.io/name": "restore-drill", "app.kubernetes.io/component": "backup", environment: cfg.environment, owner: cfg.owner } },
                spec: opsPod(IRSA_SERVICE_ACCOUNTS.restoreDrill.name, OPS_COMMANDS.restoreDrill, [
                  { name: "RESTORE_MODE", value: "rds-pitr" },
                  { name: "SOURCE_DB", value: args.database.identifier },
                  { name: "SUBNET_GROUP", value: args.database.subnetGroupName },
                  { name: "SECURITY_GROUP", value: args.database.securityGroupId },
                  { name: "INSTANCE_CLASS", value: cfg.rds.instanceClass },
                  { name: "AWS_REGION", value: cfg.region },
                  databaseUrl("backup"),
                ]),
              },
            },
          },
        },
      },
      { ...base, dependsOn: [ns, dbSecrets.backup, serviceAccounts[IRSA_SERVICE_ACCOUNTS.restoreDrill.name]!] },
    );
  }

  networkPolicies(ctx, namespace, args.vpcCidr, base);

  return { namespace, apiLoadBalancerHostname: edge.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? ""), ...(migrationJobName ? { migrationJobName } : {}) };
}
