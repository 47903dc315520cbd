/** ACM certificates validated through the environment's Route 53 zone. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";

/**
 * A DNS-validated ACM certificate for `domain`, in the region of `provider` (the stack's for the
 * API's load balancer, us-east-1 for CloudFront). The validation record is written with
 * allowOverwrite: a primary and its standby validate the same names with the same record.
 */
export function dnsValidatedCertificate(ctx: PlatformContext, name: string, domain: string, provider: aws.Provider): pulumi.Output<string> {
  const { cfg, prefix } = ctx;
  const cert = new aws.acm.Certificate(`${prefix}-${name}-cert`, { domainName: domain, validationMethod: "DNS", tags: tags(ctx, `${name}-cert`) }, { provider });
  const option = cert.domainValidationOptions.apply((o) => o?.[0]);
  const record = new aws.route53.Record(
    `${prefix}-${name}-cert-validation`,
    {
      zoneId: cfg.dns.zoneId,
      name: option.apply((o) => o?.resourceRecordName ?? `_validation.${domain}`),
      type: option.apply((o) => o?.resourceRecordType ?? "CNAME"),
      records: [option.apply((o) => o?.resourceRecordValue ?? "validation.acm-validations.aws")],
      ttl: 300,
      allowOverwrite: true,
    },
    { provider: ctx.aws },
  );
  return new aws.acm.CertificateValidation(`${prefix}-${name}-cert`, { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] }, { provider }).certificateArn;
}
