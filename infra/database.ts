/**
 * RDS PostgreSQL: encrypted with a customer KMS key, in private subnets, reachable only from the
 * cluster's nodes; Multi-AZ, deletion protection and a read replica where the config says so (prod);
 * automated backups kept 30 days in the 03:00 UTC window, maintenance on Sunday before it (the
 * windows are validated not to overlap in config.ts); slow statements (>= 100 ms) logged; automated
 * backups replicated to the second region. A standby (prod-dr) restores from those replicated backups.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Network } from "./network.js";
import { assumeRolePolicy } from "./cluster.js";

export const DB_NAME = "product";
export const DB_USER = "platform";
export const DB_PORT = 5432;

export interface DatabaseArgs {
  readonly network: Network;
  /** Security group of the clients (the EKS nodes): the only source allowed on 5432. */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  /** Standby only: the replicated automated backups (ARN) to restore from. */
  readonly restoreFromAutomatedBackupsArn?: pulumi.Input<string>;
}

export interface Database {
  readonly identifier: string;
  readonly arn: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly replicaAddress?: pulumi.Output<string>;
  /** Secrets Manager secret holding {username, password, host, port, dbname, url}. */
  readonly secretArn: pulumi.Output<string>;
  readonly databaseUrl: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly subnetGroupName: pulumi.Output<string>;
  readonly parameterGroupName: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** ARN of the automated backups replicated to the second region (primary stacks that replicate). */
  readonly replicatedBackupsArn?: pulumi.Output<string>;
}

export function database(ctx: PlatformContext, args: DatabaseArgs): Database {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const rds = cfg.rds;
  const identifier = `${prefix}-postgres`;
  const major = rds.engineVersion.split(".")[0]!;

  const sg = new aws.ec2.SecurityGroup(`${prefix}-db-sg`, { vpcId: args.network.vpcId, description: "PostgreSQL: only from the EKS nodes", tags: tags(ctx, "db-sg") }, opts);
  new aws.vpc.SecurityGroupIngressRule(
    `${prefix}-db-from-nodes`,
    { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: DB_PORT, toPort: DB_PORT, referencedSecurityGroupId: args.clientSecurityGroupId, description: "PostgreSQL from EKS nodes", tags: tags(ctx, "db-from-nodes") },
    opts,
  );
  const subnets = new aws.rds.SubnetGroup(`${prefix}-db-subnets`, { subnetIds: args.network.privateSubnetIds, tags: tags(ctx, "db-subnets") }, opts);
  const key = new aws.kms.Key(`${prefix}-db-key`, { description: `${identifier} storage`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "db-key") }, opts);
  const params = new aws.rds.ParameterGroup(
    `${prefix}-postgres${major}`,
    {
      family: `postgres${major}`,
      description: `${identifier}: slow statement logging, TLS only`,
      parameters: [
        { name: "log_min_duration_statement", value: String(rds.logMinDurationMs) },
        { name: "rds.force_ssl", value: "1" },
        { name: "log_lock_waits", value: "1" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
      ],
      tags: tags(ctx, "db-params"),
    },
    opts,
  );
  const monitoringRole = new aws.iam.Role(`${prefix}-rds-monitoring`, { assumeRolePolicy: assumeRolePolicy("monitoring.rds.amazonaws.com"), tags: tags(ctx, "rds-monitoring") }, opts);
  new aws.iam.RolePolicyAttachment(`${prefix}-rds-monitoring`, { role: monitoringRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" }, opts);

  const password = pulumi.secret(new random.RandomPassword(`${prefix}-db-password`, { length: 32, special: false }).result);

  const common = {
    instanceClass: rds.instanceClass,
    storageEncrypted: true,
    kmsKeyId: key.arn,
    publiclyAccessible: false,
    vpcSecurityGroupIds: [sg.id],
    parameterGroupName: params.name,
    performanceInsightsEnabled: rds.performanceInsights,
    ...(rds.performanceInsights ? { performanceInsightsKmsKeyId: key.arn, performanceInsightsRetentionPeriod: 7 } : {}),
    monitoringInterval: 60,
    monitoringRoleArn: monitoringRole.arn,
    autoMinorVersionUpgrade: true,
    copyTagsToSnapshot: true,
    enabledCloudwatchLogsExports: ["postgresql"],
  };

  const primary = new aws.rds.Instance(
    identifier,
    {
      ...common,
      identifier,
      engine: "postgres",
      engineVersion: rds.engineVersion,
      allocatedStorage: rds.allocatedStorageGb,
      maxAllocatedStorage: rds.maxAllocatedStorageGb,
      storageType: "gp3",
      dbSubnetGroupName: subnets.name,
      multiAz: rds.multiAz,
      deletionProtection: rds.deletionProtection,
      skipFinalSnapshot: !rds.deletionProtection,
      ...(rds.deletionProtection ? { finalSnapshotIdentifier: `${identifier}-final` } : {}),
      backupRetentionPeriod: rds.backupRetentionDays,
      backupWindow: rds.backupWindow,
      maintenanceWindow: rds.maintenanceWindow,
      username: DB_USER,
      password,
      ...(args.restoreFromAutomatedBackupsArn !== undefined
        ? { restoreToPointInTime: { sourceDbInstanceAutomatedBackupsArn: args.restoreFromAutomatedBackupsArn, useLatestRestorableTime: true } }
        : { dbName: DB_NAME }),
      tags: tags(ctx, "postgres", { backup: "aws-backup" }),
    },
    { ...opts, protect: rds.deletionProtection },
  );

  let replica: aws.rds.Instance | undefined;
  if (rds.readReplica) {
    replica = new aws.rds.Instance(
      `${identifier}-replica`,
      {
        ...common,
        identifier: `${identifier}-replica`,
        replicateSourceDb: primary.identifier,
        multiAz: false,
        deletionProtection: rds.deletionProtection,
        skipFinalSnapshot: true,
        backupRetentionPeriod: 0,
        maintenanceWindow: rds.maintenanceWindow,
        tags: tags(ctx, "postgres-replica", { "read-replica-of": identifier }),
      },
      opts,
    );
  }

  let replicatedBackupsArn: pulumi.Output<string> | undefined;
  if (rds.crossRegionBackupReplication) {
    const secondaryKey = new aws.kms.Key(
      `${prefix}-db-key-${cfg.secondaryRegion}`,
      { description: `${identifier} automated backups replicated to ${cfg.secondaryRegion}`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "db-key-replica") },
      { provider: ctx.awsSecondary },
    );
    const replication = new aws.rds.InstanceAutomatedBackupsReplication(
      `${identifier}-backups-${cfg.secondaryRegion}`,
      { sourceDbInstanceArn: primary.arn, kmsKeyId: secondaryKey.arn, retentionPeriod: rds.backupRetentionDays },
      { provider: ctx.awsSecondary },
    );
    replicatedBackupsArn = replication.id;
  }

  const databaseUrl = pulumi.interpolate`postgresql://${DB_USER}:${password}@${primary.address}:${DB_PORT}/${DB_NAME}?sslmode=require`;
  const secret = new aws.secretsmanager.Secret(`${prefix}-db-credentials`, { description: `${identifier} application credentials`, recoveryWindowInDays: 7, tags: tags(ctx, "db-credentials") }, opts);
  new aws.secretsmanager.SecretVersion(
    `${prefix}-db-credentials`,
    {
      secretId: secret.id,
      secretString: pulumi
        .all([password, primary.address])
        .apply(([pw, host]) => JSON.stringify({ username: DB_USER, password: pw, host, port: DB_PORT, dbname: DB_NAME, url: `postgresql://${DB_USER}:${pw}@${host}:${DB_PORT}/${DB_NAME}?sslmode=require` })),
    },
    opts,
  );

  return {
    identifier,
    arn: primary.arn,
    address: primary.address,
    ...(replica ? { replicaAddress: replica.address } : {}),
    secretArn: secret.arn,
    databaseUrl: pulumi.secret(databaseUrl),
    securityGroupId: sg.id,
    subnetGroupName: subnets.name,
    parameterGroupName: params.name,
    kmsKeyArn: key.arn,
    ...(replicatedBackupsArn ? { replicatedBackupsArn } : {}),
  };
}
