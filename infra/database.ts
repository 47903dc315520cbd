/**
 * RDS PostgreSQL: encrypted with a customer KMS key, in private subnets, reachable only from the
 * cluster's nodes; Multi-AZ, deletion protection and an in-region read replica where the config
 * says so (prod); automated backups kept 30 days in the 03:00 UTC window, maintenance on Sunday
 * before it (the windows are validated not to overlap); slow statements (>= 100 ms) logged;
 * automated backups replicated to the second region.
 *
 * Each component logs in as its own role (model/database-roles.ts): the stack generates one
 * password per role and hands the cluster stack one URL per component; only the db-roles Job uses
 * the master user, to create those roles.
 *
 * A standby (prod-dr) does not restore a copy once: its database is a cross-region read replica of
 * the primary's (replicateSourceDb = the primary's ARN), so it follows prod with the replica lag
 * (CloudWatch ReplicaLag, alerted by DatabaseReplicationUnhealthy). It shares the primary's roles
 * and passwords (replication copies the roles). The failover procedure promotes it; setting
 * platform:dr.promoted then drops replicateSourceDb (which promotes it if it is not promoted yet)
 * and turns its own backups on.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATABASE_COMPONENTS, DATABASE_ROLES } from "../model/database-roles.js";
import type { DatabaseComponent } from "../model/database-roles.js";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Network } from "./network.js";
import { assumeRolePolicy } from "./iam.js";

export const DB_NAME = "product";
/** The RDS master user: used only by the db-roles Job. */
export const DB_USER = "platform";
export const DB_PORT = 5432;

/** Passwords of the master user and of every component role (secret). */
export interface DatabaseCredentials {
  readonly master: string;
  readonly roles: Record<DatabaseComponent, string>;
}

export interface DatabaseArgs {
  readonly network: Network;
  /** Security group of the clients (the EKS nodes): the only source allowed on 5432. */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  /** Standby only: the primary's database this one replicates, and its credentials. */
  readonly replicateFrom?: { readonly arn: pulumi.Input<string>; readonly credentials: pulumi.Output<DatabaseCredentials> };
}

export interface Database {
  readonly identifier: string;
  readonly arn: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  /** Identifiers of the read replicas whose lag CloudWatch reports (this stack's replica, or the standby itself). */
  readonly replicaIdentifiers: string[];
  /** Whether the database accepts writes (false on a standby until promoted). */
  readonly writable: boolean;
  /** Secrets Manager secret holding the master credentials {username, password, host, port, dbname, url}. */
  readonly secretArn: pulumi.Output<string>;
  /** The master URL, for the db-roles Job only (secret). */
  readonly masterUrl: pulumi.Output<string>;
  /** One URL per component, each with its own role (secret). */
  readonly urls: pulumi.Output<Record<DatabaseComponent, string>>;
  readonly credentials: pulumi.Output<DatabaseCredentials>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly subnetGroupName: pulumi.Output<string>;
  readonly parameterGroupName: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** ARN of the automated backups replicated to the second region (primary stacks that replicate). */
  readonly replicatedBackupsArn?: pulumi.Output<string>;
}

export function databaseUrl(user: string, password: string, host: string): string {
  return `postgresql://${user}:${encodeURIComponent(password)}@${host}:${DB_PORT}/${DB_NAME}?sslmode=require`;
}

export function database(ctx: PlatformContext, args: DatabaseArgs): Database {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const rds = cfg.rds;
  const identifier = `${prefix}-postgres`;
  const major = rds.engineVersion.split(".")[0]!;
  const replicaOfPrimary = args.replicateFrom !== undefined && cfg.dr.promoted !== true;

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

  // The master password and one password per component role; a standby uses its primary's.
  const generated = (): pulumi.Output<DatabaseCredentials> => {
    const master = new random.RandomPassword(`${prefix}-db-password`, { length: 32, special: false }).result;
    const roles = DATABASE_COMPONENTS.map((c) => new random.RandomPassword(`${prefix}-db-password-${c}`, { length: 32, special: false }).result);
    return pulumi.all([master, ...roles]).apply(([m, ...r]) => ({ master: m!, roles: Object.fromEntries(DATABASE_COMPONENTS.map((c, i) => [c, r[i]!])) as Record<DatabaseComponent, string> }));
  };
  const credentials: pulumi.Output<DatabaseCredentials> = pulumi.secret(args.replicateFrom ? args.replicateFrom.credentials : generated());

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
  const backups = {
    backupRetentionPeriod: rds.backupRetentionDays,
    backupWindow: rds.backupWindow,
    maintenanceWindow: rds.maintenanceWindow,
    deletionProtection: rds.deletionProtection,
    skipFinalSnapshot: !rds.deletionProtection,
    ...(rds.deletionProtection ? { finalSnapshotIdentifier: `${identifier}-final` } : {}),
  };

  const primary = args.replicateFrom
    ? new aws.rds.Instance(
        identifier,
        {
          ...common,
          identifier,
          allocatedStorage: rds.allocatedStorageGb,
          maxAllocatedStorage: rds.maxAllocatedStorageGb,
          storageType: "gp3",
          dbSubnetGroupName: subnets.name,
          multiAz: rds.multiAz,
          // The cross-region read replica of the primary's database. Removing replicateSourceDb
          // promotes it to a standalone instance (the provider calls PromoteReadReplica).
          ...(replicaOfPrimary
            ? { replicateSourceDb: args.replicateFrom.arn, backupRetentionPeriod: 0, maintenanceWindow: rds.maintenanceWindow, deletionProtection: rds.deletionProtection, skipFinalSnapshot: true }
            : backups),
          tags: tags(ctx, "postgres", { backup: "aws-backup", "dr-promoted": String(!replicaOfPrimary) }),
        },
        { ...opts, protect: rds.deletionProtection },
      )
    : new aws.rds.Instance(
        identifier,
        {
          ...common,
          ...backups,
          identifier,
          engine: "postgres",
          engineVersion: rds.engineVersion,
          allocatedStorage: rds.allocatedStorageGb,
          maxAllocatedStorage: rds.maxAllocatedStorageGb,
          storageType: "gp3",
          dbSubnetGroupName: subnets.name,
          multiAz: rds.multiAz,
          username: DB_USER,
          password: credentials.apply((c) => c.master),
          dbName: DB_NAME,
          tags: tags(ctx, "postgres", { backup: "aws-backup" }),
        },
        { ...opts, protect: rds.deletionProtection },
      );

  const replicaIdentifiers: string[] = replicaOfPrimary ? [identifier] : [];
  if (rds.readReplica) {
    new aws.rds.Instance(
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
    replicaIdentifiers.push(`${identifier}-replica`);
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

  const masterUrl = pulumi.secret(pulumi.all([credentials, primary.address]).apply(([c, host]) => databaseUrl(DB_USER, c.master, host)));
  const urls = pulumi.secret(
    pulumi.all([credentials, primary.address]).apply(([c, host]) => Object.fromEntries(DATABASE_COMPONENTS.map((comp) => [comp, databaseUrl(DATABASE_ROLES[comp].user, c.roles[comp], host)])) as Record<DatabaseComponent, string>),
  );
  const secret = new aws.secretsmanager.Secret(`${prefix}-db-credentials`, { description: `${identifier} master credentials (the db-roles Job and break-glass access)`, recoveryWindowInDays: 7, tags: tags(ctx, "db-credentials") }, opts);
  new aws.secretsmanager.SecretVersion(
    `${prefix}-db-credentials`,
    {
      secretId: secret.id,
      secretString: pulumi
        .all([credentials, primary.address])
        .apply(([c, host]) => JSON.stringify({ username: DB_USER, password: c.master, host, port: DB_PORT, dbname: DB_NAME, url: databaseUrl(DB_USER, c.master, host) })),
    },
    opts,
  );

  return {
    identifier,
    arn: primary.arn,
    address: primary.address,
    replicaIdentifiers,
    writable: !replicaOfPrimary,
    secretArn: secret.arn,
    masterUrl,
    urls,
    credentials,
    securityGroupId: sg.id,
    subnetGroupName: subnets.name,
    parameterGroupName: params.name,
    kmsKeyArn: key.arn,
    ...(replicatedBackupsArn ? { replicatedBackupsArn } : {}),
  };
}
