/** A private S3 bucket: versioned, KMS/SSE encrypted, public access blocked, owner-enforced, TLS only. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { policyDocument } from "./cluster.js";
import type { PolicyStatement } from "./cluster.js";

export interface PrivateBucket {
  readonly bucket: aws.s3.Bucket;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
}

/**
 * The bucket policy: TLS only, plus the caller's statements. Separate from `privateBucket` when a
 * statement refers to a resource that itself needs the bucket (CloudFront's distribution ARN).
 */
export function bucketPolicy(ctx: PlatformContext, name: string, bucket: aws.s3.Bucket, extra: PolicyStatement[] = []): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${ctx.prefix}-${name}`,
    {
      bucket: bucket.id,
      policy: policyDocument([
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: { AWS: "*" }, Action: ["s3:*"], Resource: [bucket.arn, bucket.arn.apply((a) => `${a}/*`)], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ...extra,
      ]),
    },
    { provider: ctx.aws },
  );
}

export function privateBucket(ctx: PlatformContext, name: string, options: { withPolicy?: boolean; expireAfterDays?: number; sse?: "aws:kms" | "AES256" } = {}): PrivateBucket {
  const opts = { provider: ctx.aws };
  const id = `${ctx.prefix}-${name}`;
  const bucket = new aws.s3.Bucket(id, { forceDestroy: ctx.cfg.environment === "dev", tags: tags(ctx, name) }, opts);
  new aws.s3.BucketPublicAccessBlock(id, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
  new aws.s3.BucketOwnershipControls(id, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  new aws.s3.BucketVersioning(id, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
  new aws.s3.BucketServerSideEncryptionConfiguration(id, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: options.sse ?? "aws:kms" }, bucketKeyEnabled: (options.sse ?? "aws:kms") === "aws:kms" }] }, opts);
  if (options.expireAfterDays !== undefined) {
    new aws.s3.BucketLifecycleConfiguration(
      id,
      {
        bucket: bucket.id,
        rules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: options.expireAfterDays }, noncurrentVersionExpiration: { noncurrentDays: 7 } }],
      },
      opts,
    );
  }
  if (options.withPolicy !== false) bucketPolicy(ctx, name, bucket);
  return { bucket, arn: bucket.arn, name: bucket.bucket };
}
