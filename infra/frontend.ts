/**
 * Frontend: a private, versioned, encrypted S3 bucket served only through CloudFront with Origin
 * Access Control (the bucket policy admits the CloudFront service principal for this distribution).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { bucketPolicy, privateBucket } from "./buckets.js";

export interface Frontend {
  readonly bucketName: pulumi.Output<string>;
  readonly distributionDomainName: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;
}

/** AWS managed cache policy "CachingOptimized". */
export const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";

export function frontend(ctx: PlatformContext): Frontend {
  const { prefix } = ctx;
  const opts = { provider: ctx.aws };
  const oac = new aws.cloudfront.OriginAccessControl(`${prefix}-frontend-oac`, {
    name: `${prefix}-frontend`,
    description: "CloudFront to the frontend bucket (SigV4)",
    originAccessControlOriginType: "s3",
    signingBehavior: "always",
    signingProtocol: "sigv4",
  }, opts);

  // SSE-S3: CloudFront (OAC) cannot decrypt objects encrypted with the AWS-managed aws/s3 KMS key.
  const site = privateBucket(ctx, "frontend", { withPolicy: false, sse: "AES256" });
  const distribution = new aws.cloudfront.Distribution(
    `${prefix}-frontend`,
    {
      enabled: true,
      comment: `${prefix} frontend`,
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
      viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" },
      tags: tags(ctx, "frontend-cdn"),
    },
    opts,
  );
  bucketPolicy(ctx, "frontend", site.bucket, [
    {
      Sid: "CloudFrontReadThisDistributionOnly",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: ["s3:GetObject"],
      Resource: [site.arn.apply((a) => `${a}/*`)],
      Condition: { StringEquals: { "AWS:SourceArn": distribution.arn } },
    },
  ]);
  return { bucketName: site.name, distributionDomainName: distribution.domainName, distributionId: distribution.id };
}
