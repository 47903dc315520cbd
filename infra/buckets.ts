/**
 * S3 buckets: private (public access blocked, owner-enforced, TLS only), versioned, encrypted, and
 * with server access logs in the region's access-log bucket. The database dumps bucket has its own
 * KMS key and, where the stack copies backups to the second region, replicates every dump there.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { policyDocument, trustPolicy } from "./iam.js";
import type { PolicyStatement } from "./iam.js";

export interface PrivateBucket {
  readonly bucket: aws.s3.Bucket;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
}

/** The tag that marks a bucket receiving server access logs (it does not log itself). */
export const ACCESS_LOGS_PURPOSE = "access-logs";

/**
 * The bucket policy: TLS only, plus the caller's statements. Separate from `privateBucket` when a
 * statement refers to a resource that itself needs the bucket (CloudFront's distribution ARN).
 */
export function bucketPolicy(ctx: PlatformContext, name: string, bucket: aws.s3.Bucket, extra: PolicyStatement[] = [], provider: aws.Provider = ctx.aws): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${ctx.prefix}-${name}`,
    {
      bucket: bucket.id,
      policy: policyDocument([
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: { AWS: "*" }, Action: ["s3:*"], Resource: [bucket.arn, bucket.arn.apply((a) => `${a}/*`)], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ...extra,
      ]),
    },
    { provider },
  );
}

function bucketBasics(ctx: PlatformContext, id: string, bucket: aws.s3.Bucket, sse: { sseAlgorithm: "aws:kms" | "AES256"; kmsMasterKeyId?: pulumi.Input<string> }, provider: aws.Provider): aws.s3.BucketVersioning {
  const opts = { provider };
  new aws.s3.BucketPublicAccessBlock(id, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
  new aws.s3.BucketOwnershipControls(id, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  const versioning = new aws.s3.BucketVersioning(id, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
  new aws.s3.BucketServerSideEncryptionConfiguration(id, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: sse, bucketKeyEnabled: sse.sseAlgorithm === "aws:kms" }] }, opts);
  return versioning;
}

function expire(id: string, bucket: aws.s3.Bucket, days: number, provider: aws.Provider): void {
  new aws.s3.BucketLifecycleConfiguration(
    id,
    { bucket: bucket.id, rules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days }, noncurrentVersionExpiration: { noncurrentDays: 7 } }] },
    { provider },
  );
}

/**
 * The bucket that receives the server access logs of the region's other buckets. Log delivery
 * writes with the logging service principal, which needs SSE-S3 on the target bucket (server access
 * logging does not deliver to SSE-KMS targets); the policy admits it only for this account's buckets.
 */
export function accessLogBucket(ctx: PlatformContext, provider: aws.Provider = ctx.aws, suffix = ""): PrivateBucket {
  const name = `access-logs${suffix}`;
  const id = `${ctx.prefix}-${name}`;
  const bucket = new aws.s3.Bucket(id, { forceDestroy: ctx.cfg.environment === "dev", tags: tags(ctx, name, { purpose: ACCESS_LOGS_PURPOSE }) }, { provider });
  bucketBasics(ctx, id, bucket, { sseAlgorithm: "AES256" }, provider);
  expire(id, bucket, ctx.cfg.environment === "prod" ? 365 : 90, provider);
  bucketPolicy(
    ctx,
    name,
    bucket,
    [
      {
        Sid: "S3ServerAccessLogs",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: ["s3:PutObject"],
        Resource: [bucket.arn.apply((a) => `${a}/*`)],
        Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
      },
    ],
    provider,
  );
  return { bucket, arn: bucket.arn, name: bucket.bucket };
}

export interface PrivateBucketOptions {
  /** Where the bucket's server access logs go (the access-log bucket of its region). */
  readonly logs: PrivateBucket;
  readonly withPolicy?: boolean;
  readonly expireAfterDays?: number;
  readonly sse?: "aws:kms" | "AES256";
  /** A customer-managed key for SSE-KMS (the AWS-managed aws/s3 key otherwise). */
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly provider?: aws.Provider;
  readonly extraTags?: Record<string, string>;
}

export function privateBucket(ctx: PlatformContext, name: string, options: PrivateBucketOptions): PrivateBucket & { versioning: aws.s3.BucketVersioning } {
  const provider = options.provider ?? ctx.aws;
  const id = `${ctx.prefix}-${name}`;
  const bucket = new aws.s3.Bucket(id, { forceDestroy: ctx.cfg.environment === "dev", tags: tags(ctx, name, options.extraTags) }, { provider });
  const sseAlgorithm = options.sse ?? "aws:kms";
  const versioning = bucketBasics(ctx, id, bucket, { sseAlgorithm, ...(options.kmsKeyArn !== undefined ? { kmsMasterKeyId: options.kmsKeyArn } : {}) }, provider);
  new aws.s3.BucketLogging(id, { bucket: bucket.id, targetBucket: options.logs.name, targetPrefix: `${name}/` }, { provider });
  if (options.expireAfterDays !== undefined) expire(id, bucket, options.expireAfterDays, provider);
  if (options.withPolicy !== false) bucketPolicy(ctx, name, bucket, [], provider);
  return { bucket, arn: bucket.arn, name: bucket.bucket, versioning };
}

export interface DumpBuckets {
  readonly primary: PrivateBucket;
  readonly keyArn: pulumi.Output<string>;
  /** The copy in the second region, where the stack replicates. */
  readonly replica?: PrivateBucket;
}

/** How long pg_dump files are kept. */
export const DUMP_RETENTION_DAYS = 14;

/**
 * The pg_dump bucket: its own KMS key; with `replicate`, S3 replication of every new dump to a
 * bucket (with its own key) in the second region, so the dumps survive the loss of the region.
 */
export function dumpBuckets(ctx: PlatformContext, logs: { primary: PrivateBucket; secondary?: PrivateBucket }, replicate: boolean): DumpBuckets {
  const { cfg, prefix } = ctx;
  const key = new aws.kms.Key(`${prefix}-db-dumps-key`, { description: `${prefix} database dumps`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "db-dumps-key") }, { provider: ctx.aws });
  const primary = privateBucket(ctx, "db-dumps", { logs: logs.primary, expireAfterDays: DUMP_RETENTION_DAYS, kmsKeyArn: key.arn, extraTags: { data: "database-dumps" } });
  if (!replicate) return { primary, keyArn: key.arn };
  if (!logs.secondary) throw new Error("replicating the dumps needs the access-log bucket of the second region");

  const secondaryOpts = { provider: ctx.awsSecondary };
  const replicaKey = new aws.kms.Key(`${prefix}-db-dumps-key-${cfg.secondaryRegion}`, { description: `${prefix} database dumps replicated to ${cfg.secondaryRegion}`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "db-dumps-key-replica") }, secondaryOpts);
  const replica = privateBucket(ctx, `db-dumps-${cfg.secondaryRegion}`, {
    logs: logs.secondary,
    expireAfterDays: DUMP_RETENTION_DAYS,
    kmsKeyArn: replicaKey.arn,
    provider: ctx.awsSecondary,
    extraTags: { data: "database-dumps", "replica-of": `${prefix}-db-dumps` },
  });
  const role = new aws.iam.Role(`${prefix}-db-dumps-replication`, { assumeRolePolicy: trustPolicy([{ Principal: { Service: "s3.amazonaws.com" }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } } }]), tags: tags(ctx, "db-dumps-replication") }, { provider: ctx.aws });
  new aws.iam.RolePolicy(
    `${prefix}-db-dumps-replication`,
    {
      role: role.name,
      policy: policyDocument([
        { Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: [primary.arn] },
        { Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"], Resource: [primary.arn.apply((a) => `${a}/*`)] },
        { Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: [replica.arn.apply((a) => `${a}/*`)] },
        { Action: ["kms:Decrypt"], Resource: [key.arn], Condition: { StringLike: { "kms:ViaService": `s3.${cfg.region}.amazonaws.com` } } },
        { Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: [replicaKey.arn], Condition: { StringLike: { "kms:ViaService": `s3.${cfg.secondaryRegion}.amazonaws.com` } } },
      ]),
    },
    { provider: ctx.aws },
  );
  new aws.s3.BucketReplicationConfig(
    `${prefix}-db-dumps`,
    {
      bucket: primary.bucket.id,
      role: role.arn,
      rules: [
        {
          id: `to-${cfg.secondaryRegion}`,
          status: "Enabled",
          filter: {},
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: { bucket: replica.arn, encryptionConfiguration: { replicaKmsKeyId: replicaKey.arn } },
        },
      ],
    },
    { provider: ctx.aws, dependsOn: [primary.versioning, replica.versioning] },
  );
  return { primary, keyArn: key.arn, replica };
}
