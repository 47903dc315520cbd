/**
 * Frontend: a private, versioned, encrypted S3 bucket served only through CloudFront with Origin
 * Access Control (the bucket policy admits the CloudFront service principal for this distribution),
 * on the environment's frontend name (model: env.hosts.frontend, platform:dns.frontendHostname):
 * an ACM certificate in us-east-1 (the only region CloudFront reads certificates from, hence the
 * stack's third provider), validated through Route 53, TLS 1.2+ with SNI, and alias records in
 * the zone. The blackbox probe and FrontendDeploymentFailed check exactly that name.
 *
 * A standby (prod-dr) shares its primary's frontend name: CloudFront admits an alternate domain
 * name on one distribution only, so the standby's distribution carries the certificate but not the
 * alias, and the failover procedure moves the alias to it (aws cloudfront associate-alias).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { bucketPolicy, privateBucket } from "./buckets.js";
import type { PrivateBucket } from "./buckets.js";
import { dnsValidatedCertificate } from "./certificates.js";
import { CLOUDFRONT_MINIMUM_PROTOCOL } from "./settings.js";

export interface Frontend {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** The distribution's ARN (the frontend deploy role invalidates it). */
  readonly distributionArn: pulumi.Output<string>;
  readonly distributionDomainName: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;
  readonly certificateArn: pulumi.Output<string>;
  /** The name it is served on (undefined on a standby, whose distribution has no alias yet). */
  readonly hostname?: string;
}

/** AWS managed cache policy "CachingOptimized". */
export const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/** The hosted zone of every CloudFront distribution, for Route 53 alias records. */
export const CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2";

export function frontend(ctx: PlatformContext, logs: PrivateBucket): Frontend {
  const { prefix, cfg } = ctx;
  const opts = { provider: ctx.aws };
  const hostname = cfg.dns.frontendHostname;
  const ownsName = cfg.dr.role === "primary" || cfg.dr.promoted === true;
  const oac = new aws.cloudfront.OriginAccessControl(
    `${prefix}-frontend-oac`,
    { name: `${prefix}-frontend`, description: "CloudFront to the frontend bucket (SigV4)", originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
    opts,
  );
  const certificateArn = dnsValidatedCertificate(ctx, "frontend", hostname, ctx.awsGlobal);

  // SSE-S3: CloudFront (OAC) cannot decrypt objects encrypted with the AWS-managed aws/s3 KMS key.
  const site = privateBucket(ctx, "frontend", { logs, withPolicy: false, sse: "AES256" });
  const distribution = new aws.cloudfront.Distribution(
    `${prefix}-frontend`,
    {
      enabled: true,
      comment: `${prefix} frontend (${hostname})`,
      ...(ownsName ? { aliases: [hostname] } : {}),
      defaultRootObject: "index.html",
      httpVersion: "http2and3",
      priceClass: "PriceClass_100",
      origins: [{ originId: "frontend-s3", domainName: site.bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
      defaultCacheBehavior: {
        targetOriginId: "frontend-s3",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: CACHING_OPTIMIZED,
        compress: true,
      },
      customErrorResponses: [{ errorCode: 403, responseCode: 200, responsePagePath: "/index.html" }],
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: CLOUDFRONT_MINIMUM_PROTOCOL },
      tags: tags(ctx, "frontend-cdn"),
    },
    opts,
  );
  if (ownsName) {
    for (const type of ["A", "AAAA"] as const) {
      new aws.route53.Record(
        `${prefix}-frontend-${type.toLowerCase()}`,
        { zoneId: cfg.dns.zoneId, name: hostname, type, aliases: [{ name: distribution.domainName, zoneId: CLOUDFRONT_ZONE_ID, evaluateTargetHealth: false }], allowOverwrite: true },
        opts,
      );
    }
  }
  bucketPolicy(ctx, "frontend", site.bucket, [
    {
      Sid: "CloudFrontReadThisDistributionOnly",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: ["s3:GetObject"],
      Resource: [site.arn.apply((a) => `${a}/*`)],
      Condition: { StringEquals: { "AWS:SourceArn": distribution.arn } },
    },
  ]);
  return {
    bucketName: site.name,
    bucketArn: site.arn,
    distributionArn: distribution.arn,
    distributionDomainName: distribution.domainName,
    distributionId: distribution.id,
    certificateArn,
    ...(ownsName ? { hostname } : {}),
  };
}
