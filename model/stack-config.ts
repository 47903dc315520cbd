/**
 * The typed, validated stack configuration: the schema of every `platform:` key in
 * Pulumi.<stack>.yaml. One schema, validated once: a bad value fails with the full Pulumi key
 * (`platform:rds.backupWindow`), and settings that AWS would reject only at deploy time
 * (overlapping RDS windows, AWS Backup lifecycles shorter than the cold-storage minimum) fail here.
 *
 * This module is pure (no Pulumi runtime): the environment model (model/environments.ts) reads
 * the committed stack files through it, and infra/config.ts reads the running stack's config
 * through it, so both paths validate the same way.
 */
import { z } from "zod";
import { JOB_TYPES } from "../services/jobs/types.js";
import type { JobType } from "../services/jobs/types.js";

/** The Pulumi config namespace (the project name in Pulumi.yaml): the AWS project's settings. */
export const CONFIG_NAMESPACE = "platform";
/**
 * The cluster project's config namespace (infra/cluster/Pulumi.yaml, project `platform-cluster`):
 * only its own secrets live there (CLUSTER_SECRET_KEYS); everything else it reads from the
 * environment model (the root Pulumi.<stack>.yaml) and from the AWS stack's outputs.
 */
export const CLUSTER_CONFIG_NAMESPACE = "platform-cluster";

/** AWS's documentation account (docs.aws.amazon.com examples): never a real registry. */
export const PLACEHOLDER_ACCOUNT = "123456789012";

/**
 * What AWS Backup backs up in this program (backups.ts selects the RDS instance), and the resource
 * types for which AWS Backup can move recovery points to cold storage. Lifecycle to cold storage is
 * listed per resource in "Feature availability by resource" of the AWS Backup Developer Guide
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-feature-availability.html):
 * Amazon RDS snapshots have none, so a cold-storage setting for them is silently ignored.
 */
export const BACKED_UP_RESOURCE_TYPES = ["RDS"] as const;
export const COLD_STORAGE_RESOURCE_TYPES: readonly string[] = ["EFS", "DynamoDB", "Timestream", "SAP HANA on Amazon EC2", "VirtualMachine", "CloudFormation"];

/** The job types the workers consume: one worker Deployment and one queue each (services/jobs). */
export const WORKER_TYPES = JOB_TYPES;
export type WorkerType = JobType;

const RDS_FAMILIES = ["t3", "t4g", "m5", "m6g", "m6i", "m7g", "m7i", "r5", "r6g", "r6i", "r7g", "r7i"] as const;
const RDS_SIZES = ["micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"] as const;
/** Instance classes RDS for PostgreSQL offers in the families we use. */
export const RDS_INSTANCE_CLASSES: readonly string[] = RDS_FAMILIES.flatMap((family) =>
  RDS_SIZES.filter((size) => (family.startsWith("t") ? ["micro", "small", "medium", "large", "xlarge", "2xlarge"] : ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"]).includes(size)).map(
    (size) => `db.${family}.${size}`,
  ),
);
/** Amazon MQ host instance types available for RabbitMQ. */
export const MQ_INSTANCE_TYPES = ["mq.t3.micro", "mq.m5.large", "mq.m5.xlarge", "mq.m5.2xlarge", "mq.m5.4xlarge", "mq.m7g.medium", "mq.m7g.large", "mq.m7g.xlarge", "mq.m7g.2xlarge"] as const;

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const HHMM = "([01]\\d|2[0-3]):[0-5]\\d";
const BACKUP_WINDOW_RE = new RegExp(`^(${HHMM})-(${HHMM})$`);
const MAINTENANCE_WINDOW_RE = new RegExp(`^(${DAYS.join("|")}):(${HHMM})-(${DAYS.join("|")}):(${HHMM})$`);
const WEEK = 7 * 24 * 60;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A half-open interval [start, end) in minutes of the week; end may exceed WEEK (wraps). */
interface Interval {
  start: number;
  end: number;
}

/** The daily backup window "hh:mm-hh:mm" (UTC) as one interval per day of the week. */
export function backupWindowIntervals(window: string): Interval[] {
  const m = BACKUP_WINDOW_RE.exec(window);
  if (!m) throw new Error(`invalid backup window "${window}"`);
  const start = minutes(m[1]!);
  let end = minutes(m[3]!);
  if (end <= start) end += 24 * 60;
  return DAYS.map((_, day) => ({ start: day * 24 * 60 + start, end: day * 24 * 60 + end }));
}

/** The weekly maintenance window "ddd:hh:mm-ddd:hh:mm" (UTC) as one interval. */
export function maintenanceWindowInterval(window: string): Interval {
  const m = MAINTENANCE_WINDOW_RE.exec(window.toLowerCase());
  if (!m) throw new Error(`invalid maintenance window "${window}"`);
  const start = DAYS.indexOf(m[1] as (typeof DAYS)[number]) * 24 * 60 + minutes(m[2]!);
  let end = DAYS.indexOf(m[4] as (typeof DAYS)[number]) * 24 * 60 + minutes(m[5]!);
  if (end <= start) end += WEEK;
  return { start, end };
}

/**
 * True when the two windows overlap or touch. AWS rejects overlapping windows; touching ones are
 * rejected too, so a backup never starts the minute maintenance may still be restarting the DB.
 */
export function windowsOverlap(backupWindow: string, maintenanceWindow: string): boolean {
  const maint = maintenanceWindowInterval(maintenanceWindow);
  for (const b of backupWindowIntervals(backupWindow)) {
    for (const shift of [-WEEK, 0, WEEK]) {
      if (b.start + shift <= maint.end && maint.start <= b.end + shift) return true;
    }
  }
  return false;
}

function windowLength(interval: Interval): number {
  return interval.end - interval.start;
}

const positiveInt = z.number().int().positive();
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1");

const networkSchema = z.strictObject({
  cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/16$/, "must be an IPv4 /16 CIDR such as 10.10.0.0/16"),
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, "must be an availability zone name")).min(2).max(3),
  natGatewayPerAz: z.boolean(),
});

const ipv4Cidr = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}\/(\d|[12]\d|3[0-2])$/, "must be an IPv4 CIDR such as 198.51.100.0/24");

const clusterSchema = z.strictObject({
  version: z.string().regex(/^1\.\d{2}$/, 'must be an EKS Kubernetes version such as "1.33"'),
  instanceTypes: z.array(z.string().regex(/^[a-z0-9]+\.[a-z0-9]+$/, "must be an EC2 instance type")).min(1),
  minSize: positiveInt,
  desiredSize: positiveInt,
  maxSize: positiveInt,
  /** Whether the EKS API endpoint is also reachable from outside the VPC (never in prod). */
  publicEndpoint: z.boolean(),
  /**
   * With publicEndpoint: the only source ranges the public endpoint admits (operators' egress, VPN).
   * Deploys do not need it: the cluster stack runs from the deploy runner inside the VPC.
   */
  publicAccessCidrs: z.array(ipv4Cidr).min(1).optional(),
});

/** The smallest prefix length a public EKS endpoint may admit (a /16 is 65536 addresses). */
export const MIN_PUBLIC_ACCESS_PREFIX = 16;

const rdsSchema = z.strictObject({
  instanceClass: z.string().refine((v) => RDS_INSTANCE_CLASSES.includes(v), {
    message: "unknown RDS instance class (expected e.g. db.t4g.medium, db.r6g.large)",
  }),
  engineVersion: z.string().regex(/^\d{2}(\.\d+)?$/, 'must be a PostgreSQL major version such as "16" (or major.minor)'),
  allocatedStorageGb: z.number().int().min(20).max(65536),
  maxAllocatedStorageGb: z.number().int().min(20).max(65536),
  multiAz: z.boolean(),
  deletionProtection: z.boolean(),
  readReplica: z.boolean(),
  performanceInsights: z.boolean(),
  backupRetentionDays: z.number().int().min(30, "must be at least 30 days").max(35, "RDS keeps automated backups at most 35 days"),
  backupWindow: z.string().regex(BACKUP_WINDOW_RE, 'must be "hh:mm-hh:mm" in UTC'),
  maintenanceWindow: z.string().regex(MAINTENANCE_WINDOW_RE, 'must be "ddd:hh:mm-ddd:hh:mm" in UTC, e.g. "sun:02:00-sun:02:45"'),
  logMinDurationMs: z.number().int().min(0),
  crossRegionBackupReplication: z.boolean(),
});

const backupSchema = z.strictObject({
  dailyRetentionDays: z.number().int().min(30, "must be at least 30 days"),
  weeklyRetentionDays: z.number().int().min(30, "must be at least 30 days"),
  /** Rejected while the plan backs up only resource types without cold storage (RDS). */
  weeklyColdStorageAfterDays: z.number().int().min(1).optional(),
  copyToSecondaryRegion: z.boolean(),
});

const brokerSchema = z.strictObject({
  instanceType: z.enum(MQ_INSTANCE_TYPES),
  deploymentMode: z.enum(["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"]),
  engineVersion: z.string().regex(/^3\.\d+(\.\d+)?$/, 'must be a RabbitMQ version such as "3.13"'),
});

const canaryStepSchema = z.strictObject({ setWeight: z.number().int().min(1).max(100), pauseMinutes: z.number().int().min(0) });
const workerScalingSchema = z.strictObject({
  minReplicas: z.number().int().min(0),
  maxReplicas: positiveInt,
  queueLengthPerReplica: positiveInt,
});

/** An ECR repository URL: <account>.dkr.ecr.<region>.amazonaws.com/<name>. */
export const ECR_REPOSITORY_RE = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com\/([a-z0-9]+(?:[._/-][a-z0-9]+)*)$/;

const appSchema = z.strictObject({
  /**
   * Optional: an existing ECR repository (a registry shared across accounts). Unset, the stack
   * creates its own repositories (<env>/product and <env>/product-ops) in the caller's account.
   */
  imageRepository: z.string().regex(ECR_REPOSITORY_RE, "must be an ECR repository URL such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/product").optional(),
  imageTag: z.string().regex(/^[\w][\w.-]{0,127}$/, "must be an image tag"),
  api: z.strictObject({
    minReplicas: z.number().int().min(2, "the API runs at least 2 replicas (the PodDisruptionBudget keeps one)"),
    maxReplicas: positiveInt,
    cpuTargetPercent: z.number().int().min(10).max(95),
    canarySteps: z.array(canaryStepSchema).min(1),
    maxErrorRate: z.number().positive().max(1),
  }),
  workers: z.strictObject(Object.fromEntries(WORKER_TYPES.map((t) => [t, workerScalingSchema])) as Record<WorkerType, typeof workerScalingSchema>),
});

const dnsName = z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, "must be a DNS name");
const dnsSchema = z.strictObject({
  zoneId: z.string().regex(/^Z[A-Z0-9]+$/, "must be a Route 53 hosted zone id"),
  /** The public API name (a Route 53 failover record on prod and prod-dr). */
  apiHostname: dnsName,
  /** The frontend (static site on CloudFront). */
  frontendHostname: dnsName,
});

const drSchema = z.strictObject({
  role: z.enum(["primary", "standby"]),
  rtoHours: z.number().positive(),
  rpoHours: z.number().positive(),
  /** The primary stack (org/project/stack) a standby follows (its database is a cross-region read replica of the primary's). */
  primaryStack: z.string().optional(),
  /**
   * Standby only: true once the failover procedure promoted the replica (runbooks/procedures/
   * dr-failover.md). The standby then runs as the primary: writable database with its own backups,
   * workers and scheduler scaled up, and the API's SECONDARY failover record in Route 53.
   */
  promoted: z.boolean().optional(),
});

const githubRepository = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9_.-]+$/, "must be a GitHub repository owner/name");

/**
 * How the stack is deployed (README "Deploying"): the Pulumi state backend, the GitHub repository
 * whose workflows deploy it (through the GitHub OIDC deploy roles the stack creates), and the deploy
 * runner, a CodeBuild-hosted GitHub Actions runner in the private subnets from which the cluster
 * stack (infra/cluster) reaches the EKS API.
 */
const deploySchema = z.strictObject({
  /** codebuild: the stack creates the runner; none: the cluster stack runs from anywhere that reaches a public endpoint. */
  runner: z.enum(["codebuild", "none"]),
  /** The GitHub repository (owner/name) whose workflows assume the deploy roles and use the runner. */
  repository: githubRepository,
  /**
   * The frontend's GitHub repository (owner/name): its jobs in the GitHub environment named like
   * this stack assume `<env>-deploy-frontend` through .github/workflows/deploy-frontend.yml.
   */
  frontendRepository: githubRepository,
  /** The branch images are built and pushed from (the image-push role's trust). */
  branch: z.string().regex(/^[A-Za-z0-9._/-]+$/, "must be a branch name"),
  /** The name of the AWS CodeConnections connection to GitHub in this region (created once per account and region, README). */
  githubConnection: z.string().regex(/^[A-Za-z0-9.@_-]{1,32}$/, "must be a CodeConnections connection name"),
  /** The S3 bucket of the Pulumi state (pulumi login s3://<bucket>). */
  stateBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
  /** The KMS key (alias) that encrypts the stacks' secrets (--secrets-provider awskms://<alias>). */
  secretsKeyAlias: z.string().regex(/^alias\/[A-Za-z0-9/_-]+$/, 'must be a KMS alias such as "alias/pulumi-secrets"'),
  /** The GitHub Actions OIDC identity provider exists once per account: `create` it in one stack, `existing` in the others. */
  oidcProvider: z.enum(["create", "existing"]),
});

const pagerdutySchema = z.strictObject({ enabled: z.boolean() });

/** The tiers a stack can deploy: a standby (prod-dr) deploys the prod tier in another region. */
export const TIERS = ["dev", "staging", "prod"] as const;
export type Tier = (typeof TIERS)[number];

const slackChannel = z.string().regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, 'must be a Slack channel such as "#alerts-dev"');
const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/, "must be an email address");
const httpsUrl = z.string().regex(/^https:\/\/[a-z0-9.-]+(:\d+)?(\/[^\s]*)?$/, "must be an https:// URL");

/**
 * Where this environment's alerts go and where on-call looks. `pages` says where critical alerts
 * go: `pagerduty` (the stack's own PagerDuty service, or the primary stack's on a standby) or
 * `slack` (the critical channel only: environments nobody is paged for).
 */
const monitoringSchema = z.strictObject({
  grafanaUrl: httpsUrl,
  pages: z.enum(["pagerduty", "slack"]),
  slack: z.strictObject({ alerts: slackChannel, critical: slackChannel, admins: slackChannel }),
  digestEmail: email,
  emailFrom: email,
  smarthost: z.string().regex(/^[a-z0-9.-]+:\d{2,5}$/, 'must be "host:port"'),
  heartbeatUrl: httpsUrl,
});

/** The shape of every `platform:` key (without the cross-field rules below). */
const stackConfigObject = z.strictObject({
  environment: z.enum(TIERS),
  owner: z.string().regex(/^[a-z0-9-]+$/, "must be a team slug"),
  region: awsRegion,
  secondaryRegion: awsRegion,
  network: networkSchema,
  cluster: clusterSchema,
  rds: rdsSchema,
  backup: backupSchema,
  broker: brokerSchema,
  app: appSchema,
  dns: dnsSchema,
  dr: drSchema,
  pagerduty: pagerdutySchema,
  monitoring: monitoringSchema,
  deploy: deploySchema,
});

const stackConfigSchema = stackConfigObject.superRefine((c, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
  if (c.secondaryRegion === c.region) issue(["secondaryRegion"], `must differ from platform:region (${c.region})`);
  for (const [i, az] of c.network.availabilityZones.entries()) {
    if (!az.startsWith(c.region)) issue(["network", "availabilityZones", i], `${az} is not in platform:region ${c.region}`);
  }
  // RDS windows: both at least 30 minutes, and never overlapping (AWS rejects it at deploy time).
  const backup = backupWindowIntervals(c.rds.backupWindow)[0]!;
  if (windowLength(backup) < 30) issue(["rds", "backupWindow"], "must be at least 30 minutes long");
  const maint = maintenanceWindowInterval(c.rds.maintenanceWindow);
  if (windowLength(maint) < 30) issue(["rds", "maintenanceWindow"], "must be at least 30 minutes long");
  if (windowsOverlap(c.rds.backupWindow, c.rds.maintenanceWindow)) {
    issue(
      ["rds", "backupWindow"],
      `daily backup window ${c.rds.backupWindow} overlaps the maintenance window platform:rds.maintenanceWindow=${c.rds.maintenanceWindow}; AWS rejects overlapping windows (e.g. use backup 03:00-03:30 with maintenance sun:02:00-sun:02:45)`,
    );
  }
  if (c.rds.maxAllocatedStorageGb < c.rds.allocatedStorageGb) issue(["rds", "maxAllocatedStorageGb"], "must be >= platform:rds.allocatedStorageGb");
  // AWS Backup: cold storage exists only for some resource types, and a recovery point in cold
  // storage must stay there at least 90 days.
  if (c.backup.weeklyColdStorageAfterDays !== undefined) {
    const without = BACKED_UP_RESOURCE_TYPES.filter((t) => !COLD_STORAGE_RESOURCE_TYPES.includes(t));
    if (without.length > 0) {
      issue(
        ["backup", "weeklyColdStorageAfterDays"],
        `AWS Backup has no cold storage for ${without.join(", ")} (what this plan backs up), so the setting would be ignored and the weekly recovery points billed as warm storage for platform:backup.weeklyRetentionDays: remove the key`,
      );
    } else if (c.backup.weeklyRetentionDays < c.backup.weeklyColdStorageAfterDays + 90) {
      issue(
        ["backup", "weeklyRetentionDays"],
        `must be >= platform:backup.weeklyColdStorageAfterDays + 90 (${c.backup.weeklyColdStorageAfterDays + 90}): AWS Backup keeps cold-storage recovery points at least 90 days`,
      );
    }
  }
  // The cluster stack must be able to reach the EKS API (point 1 of issue 18): from the deploy
  // runner inside the VPC, or through a public endpoint restricted to known ranges.
  if (!c.cluster.publicEndpoint && c.deploy.runner === "none") {
    issue(["cluster", "publicEndpoint"], "a private-only EKS endpoint needs the deploy runner (platform:deploy.runner: codebuild): nothing outside the VPC can reach the Kubernetes API to apply the cluster stack");
  }
  if (c.cluster.publicEndpoint) {
    const cidrs = c.cluster.publicAccessCidrs ?? [];
    if (cidrs.length === 0) issue(["cluster", "publicAccessCidrs"], "required with platform:cluster.publicEndpoint: the ranges allowed to reach the public endpoint (EKS admits 0.0.0.0/0 when it is empty)");
    for (const [i, cidr] of cidrs.entries()) {
      const prefix = Number(cidr.split("/")[1]);
      if (prefix < MIN_PUBLIC_ACCESS_PREFIX) issue(["cluster", "publicAccessCidrs", i], `${cidr} opens the Kubernetes API to ${prefix === 0 ? "the whole internet" : `2^${32 - prefix} addresses`}: list the operators' egress ranges (/${MIN_PUBLIC_ACCESS_PREFIX} or narrower)`);
    }
  } else if (c.cluster.publicAccessCidrs !== undefined) {
    issue(["cluster", "publicAccessCidrs"], "only applies with platform:cluster.publicEndpoint: true");
  }
  if (c.app.imageRepository !== undefined && ECR_REPOSITORY_RE.exec(c.app.imageRepository)?.[1] === PLACEHOLDER_ACCOUNT) {
    issue(["app", "imageRepository"], `${PLACEHOLDER_ACCOUNT} is AWS's documentation placeholder account, not a registry anyone can push to: remove the key (the stack creates its ECR repositories in its own account) or name your registry`);
  }
  if (c.deploy.frontendRepository.toLowerCase() === c.deploy.repository.toLowerCase()) {
    issue(["deploy", "frontendRepository"], `is platform:deploy.repository (${c.deploy.repository}): the frontend deploy role would then trust this repository's deploy jobs too; name the frontend's own repository`);
  }
  if (c.dr.role === "standby" && c.deploy.oidcProvider !== "existing") {
    issue(["deploy", "oidcProvider"], "a standby runs in its primary's account (RDS replicates across regions within one account), where the primary created the GitHub OIDC provider: use existing");
  }
  if (c.dr.promoted !== undefined && c.dr.role !== "standby") issue(["dr", "promoted"], "only a standby is promoted");
  if (c.cluster.minSize > c.cluster.desiredSize || c.cluster.desiredSize > c.cluster.maxSize) {
    issue(["cluster", "desiredSize"], "must satisfy minSize <= desiredSize <= maxSize");
  }
  if (c.broker.deploymentMode === "CLUSTER_MULTI_AZ" && c.broker.instanceType === "mq.t3.micro") {
    issue(["broker", "instanceType"], "mq.t3.micro only supports SINGLE_INSTANCE (platform:broker.deploymentMode)");
  }
  if (c.app.api.maxReplicas < c.app.api.minReplicas) issue(["app", "api", "maxReplicas"], "must be >= platform:app.api.minReplicas");
  let lastWeight = 0;
  for (const [i, step] of c.app.api.canarySteps.entries()) {
    if (step.setWeight <= lastWeight) issue(["app", "api", "canarySteps", i, "setWeight"], "canary weights must increase");
    lastWeight = step.setWeight;
  }
  for (const t of WORKER_TYPES) {
    const w = c.app.workers[t];
    if (w.maxReplicas < w.minReplicas) issue(["app", "workers", t, "maxReplicas"], `must be >= platform:app.workers.${t}.minReplicas`);
  }
  if (c.dr.rpoHours > c.dr.rtoHours) issue(["dr", "rpoHours"], "must not exceed platform:dr.rtoHours");
  if (c.dr.role === "standby" && !c.dr.primaryStack) issue(["dr", "primaryStack"], "a standby stack needs the primary stack to restore from");
  if (c.dr.role === "standby" && c.pagerduty.enabled) {
    issue(["pagerduty", "enabled"], "a standby stack uses the primary stack's PagerDuty service (the users and services exist once)");
  }
  if (c.monitoring.pages === "pagerduty" && !c.pagerduty.enabled && c.dr.role !== "standby") {
    issue(["monitoring", "pages"], "pagerduty needs a PagerDuty service: set platform:pagerduty.enabled, or page to slack");
  }
  if (c.monitoring.pages === "slack" && c.pagerduty.enabled) {
    issue(["monitoring", "pages"], "this stack creates a PagerDuty service (platform:pagerduty.enabled) but pages to slack: page to pagerduty");
  }
  // Production is highly available and protected.
  if (c.environment === "prod") {
    const must = (path: (string | number)[], ok: boolean, message: string) => {
      if (!ok) issue(path, message);
    };
    must(["monitoring", "pages"], c.monitoring.pages === "pagerduty", "prod pages through PagerDuty");
    must(["network", "availabilityZones"], c.network.availabilityZones.length === 3, "prod spans 3 availability zones");
    must(["network", "natGatewayPerAz"], c.network.natGatewayPerAz, "prod has one NAT gateway per AZ");
    must(["rds", "multiAz"], c.rds.multiAz, "prod databases are Multi-AZ");
    must(["rds", "deletionProtection"], c.rds.deletionProtection, "prod databases have deletion protection");
    must(["broker", "deploymentMode"], c.broker.deploymentMode === "CLUSTER_MULTI_AZ", "prod runs a multi-AZ RabbitMQ cluster");
    must(["cluster", "publicEndpoint"], !c.cluster.publicEndpoint, "prod's Kubernetes API is private (the cluster stack deploys from the runner in the VPC)");
    if (c.dr.role === "primary") {
      must(["rds", "readReplica"], c.rds.readReplica, "prod has a read replica");
      must(["rds", "crossRegionBackupReplication"], c.rds.crossRegionBackupReplication, "prod replicates automated backups to platform:secondaryRegion");
    }
  }
});

export type StackConfig = z.infer<typeof stackConfigSchema>;

/** A config error whose message names every bad key, e.g. `platform:rds.backupWindow: ...`. */
export class StackConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid stack config for ${stackName}:\n  ${problems.join("\n  ")}`);
    this.name = "StackConfigError";
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${CONFIG_NAMESPACE}:${[head ?? "", ...rest].join(".")}`;
}

/**
 * Validates raw config values (the keys of the `platform` namespace without the prefix, as in
 * Pulumi.<stack>.yaml) for a stack that deploys `tier`.
 */
export function parseStackConfig(tier: Tier, raw: Record<string, unknown>, stackName: string = tier): StackConfig {
  if (raw["environment"] !== undefined && raw["environment"] !== tier) {
    throw new StackConfigError(stackName, [`${CONFIG_NAMESPACE}:environment: is ${String(raw["environment"])}, but this stack deploys ${tier}`]);
  }
  const values = { ...raw, environment: tier };
  const result = stackConfigSchema.safeParse(values);
  if (!result.success) {
    throw new StackConfigError(
      stackName,
      result.error.issues.flatMap((i) =>
        i.code === "unrecognized_keys" ? i.keys.map((k) => `${keyOf([...i.path, k])}: unknown key`) : [`${keyOf(i.path)}: ${i.message}`],
      ),
    );
  }
  return result.data;
}

/**
 * Validates a stack's whole config map, keys with their namespace (`aws:region`, `platform:rds`),
 * as Pulumi.<stack>.yaml's `config:` holds it or as the engine hands it to the program. The tier is
 * `platform:environment`, or the stack's name when that is a tier. The default AWS provider's
 * `aws:region` must name the same region as `platform:region`: the program creates its own
 * providers from platform:region, and a default provider in another region would put whatever
 * uses it (data sources, a forgotten provider option) in the wrong region.
 */
export function parseStackConfigMap(stackName: string, all: Record<string, unknown>): StackConfig {
  const moved = CLUSTER_SECRET_KEYS.filter((k) => all[`${CONFIG_NAMESPACE}:${k}`] !== undefined);
  if (moved.length > 0) {
    throw new StackConfigError(
      stackName,
      moved.map((k) => `${CONFIG_NAMESPACE}:${k}: moved to the cluster stack: pulumi config set --secret ${CLUSTER_CONFIG_NAMESPACE}:${k} <value> --stack ${stackName} --cwd infra/cluster (then pulumi config rm ${CONFIG_NAMESPACE}:${k})`),
    );
  }
  const raw = platformValues(all);
  const declared = raw["environment"];
  const tier = typeof declared === "string" ? declared : stackName;
  if (!(TIERS as readonly string[]).includes(tier)) {
    throw new StackConfigError(stackName, [`${CONFIG_NAMESPACE}:environment: "${tier}" is not one of ${TIERS.join(", ")} (set it on a stack whose name is not a tier)`]);
  }
  const cfg = parseStackConfig(tier as Tier, raw, stackName);
  const awsRegion = all["aws:region"];
  if (awsRegion === undefined) {
    throw new StackConfigError(stackName, [`aws:region: required, and must equal ${CONFIG_NAMESPACE}:region (${cfg.region})`]);
  }
  if (awsRegion !== cfg.region) {
    throw new StackConfigError(stackName, [`aws:region: is ${String(awsRegion)}, but ${CONFIG_NAMESPACE}:region is ${cfg.region}; they must name the same region`]);
  }
  return cfg;
}

/**
 * The cluster project's secrets (Alertmanager's Slack webhook, SMTP password and heartbeat token):
 * stack secrets of infra/cluster (`platform-cluster:<key>`), encrypted with the stacks' KMS secrets
 * key, which the cluster deploy role may decrypt. Not AWS stack settings: the AWS stack never
 * handles them.
 */
export const CLUSTER_SECRET_KEYS = ["slackWebhookUrl", "smtpPassword", "heartbeatToken"] as const;
export type ClusterSecretKey = (typeof CLUSTER_SECRET_KEYS)[number];

/**
 * Every `platform:` key of a config map (Pulumi.<stack>.yaml's `config:` or the engine's config)
 * without the prefix, objects parsed from JSON. Unknown keys stay in, so the strict schema rejects typos.
 */
export function platformValues(all: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(all)) {
    if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
    if (typeof value === "string") {
      try {
        const parsed = JSON.parse(value) as unknown;
        raw[key] = typeof parsed === "object" || typeof parsed === "boolean" ? parsed : value;
      } catch {
        raw[key] = value;
      }
    } else {
      raw[key] = value;
    }
  }
  return raw;
}


/**
 * What is wrong with a `pulumi config set` of `key` (e.g. `platform:app.imageTag`), or undefined
 * when the key is one the stack config accepts. A nested key needs `--path`: without it Pulumi sets
 * a top-level key with a dot in its name, which the strict schema rejects as unknown. Secret keys
 * (other providers' namespaces such as pagerduty:token) are set with
 * `--secret`; the cluster project's secrets (CLUSTER_SECRET_KEYS) are `platform-cluster:` keys of the
 * cluster stack. Used by the test that checks every command in the README and the runbooks.
 */
export function configSetProblem(key: string, flags: { readonly path: boolean; readonly secret: boolean }): string | undefined {
  const [namespace, name] = key.split(/:(.*)/s) as [string, string | undefined];
  if (!name) return `${key}: not a namespaced key`;
  if (namespace === "aws") return name === "region" ? undefined : `${key}: the program reads only aws:region of the aws namespace`;
  if (namespace === "pagerduty") return name === "token" && flags.secret ? undefined : `${key}: only pagerduty:token, with --secret`;
  if (namespace === CLUSTER_CONFIG_NAMESPACE) {
    if (!(CLUSTER_SECRET_KEYS as readonly string[]).includes(name)) return `${key}: the cluster stack holds only its secrets (${CLUSTER_SECRET_KEYS.join(", ")})`;
    return flags.secret ? undefined : `${key}: a secret, set it with --secret`;
  }
  if (namespace !== CONFIG_NAMESPACE) return `${key}: unknown namespace ${namespace}`;
  if ((CLUSTER_SECRET_KEYS as readonly string[]).includes(name)) return `${key}: a secret of the cluster stack: set ${CLUSTER_CONFIG_NAMESPACE}:${name} with --secret and --cwd infra/cluster`;
  const segments = name.split(".");
  if (segments.length > 1 && !flags.path) return `${key}: a nested key needs --path (pulumi config set --path ${key} ...)`;
  let schema: z.ZodType = stackConfigObject;
  for (const [i, seg] of segments.entries()) {
    const at = `${CONFIG_NAMESPACE}:${segments.slice(0, i + 1).join(".")}`;
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) schema = schema.unwrap() as z.ZodType;
    if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[seg.replace(/\[\d+\]$/, "")];
      if (!next) return `${at}: unknown key`;
      schema = next;
      if (/\[\d+\]$/.test(seg)) {
        while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) schema = schema.unwrap() as z.ZodType;
        if (!(schema instanceof z.ZodArray)) return `${at}: not a list`;
        schema = schema.element as z.ZodType;
      }
    } else {
      return `${at}: ${segments.slice(0, i).join(".")} has no keys`;
    }
  }
  return undefined;
}
