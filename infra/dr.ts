/**
 * Disaster recovery. The `prod-dr` stack (platform:dr.role = standby) runs in the second region:
 * it reads the primary stack's outputs (the ARN of the automated backups replicated there), restores
 * the database from them (database.ts) and stands up the same platform. DNS: the API name is a
 * Route 53 failover record; the primary stack owns the PRIMARY record, the standby the SECONDARY,
 * each with a health check on its own load balancer. RTO/RPO targets are platform:dr.rtoHours and
 * platform:dr.rpoHours (4 h / 1 h).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";

export interface PrimaryStack {
  readonly replicatedBackupsArn: pulumi.Output<string>;
  readonly pagerdutyRoutingKey: pulumi.Output<string>;
}

/** The primary stack's outputs, on a standby stack only. */
export function primaryStack(ctx: PlatformContext): PrimaryStack | undefined {
  const { cfg, prefix } = ctx;
  if (cfg.dr.role !== "standby" || !cfg.dr.primaryStack) return undefined;
  const ref = new pulumi.StackReference(`${prefix}-primary`, { name: cfg.dr.primaryStack });
  return {
    replicatedBackupsArn: ref.requireOutput("replicatedBackupsArn").apply(String),
    pagerdutyRoutingKey: pulumi.secret(ref.requireOutput("pagerdutyRoutingKey").apply(String)),
  };
}

/** ACM certificate for the API name, validated through Route 53 (both stacks write the same record). */
export function apiCertificate(ctx: PlatformContext): pulumi.Output<string> {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const cert = new aws.acm.Certificate(`${prefix}-api-cert`, { domainName: cfg.dns.apiHostname, validationMethod: "DNS", tags: tags(ctx, "api-cert") }, opts);
  const option = cert.domainValidationOptions.apply((o) => o?.[0]);
  const record = new aws.route53.Record(
    `${prefix}-api-cert-validation`,
    {
      zoneId: cfg.dns.zoneId,
      name: option.apply((o) => o?.resourceRecordName ?? `_validation.${cfg.dns.apiHostname}`),
      type: option.apply((o) => o?.resourceRecordType ?? "CNAME"),
      records: [option.apply((o) => o?.resourceRecordValue ?? "validation.acm-validations.aws")],
      ttl: 300,
      allowOverwrite: true,
    },
    opts,
  );
  const validation = new aws.acm.CertificateValidation(`${prefix}-api-cert`, { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] }, opts);
  return validation.certificateArn;
}

export interface FailoverDns {
  readonly healthCheckId: pulumi.Output<string>;
  readonly record: string;
}

/** The API's failover record: PRIMARY on the primary stack, SECONDARY on the standby. */
export function failoverDns(ctx: PlatformContext, loadBalancerHostname: pulumi.Input<string>): FailoverDns {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const failover = cfg.dr.role === "standby" ? "SECONDARY" : "PRIMARY";
  const health = new aws.route53.HealthCheck(
    `${prefix}-api-health`,
    { type: "HTTPS", fqdn: loadBalancerHostname, port: 443, resourcePath: "/readyz", requestInterval: 30, failureThreshold: 3, measureLatency: true, tags: tags(ctx, "api-health") },
    opts,
  );
  new aws.route53.Record(
    `${prefix}-api-${failover.toLowerCase()}`,
    {
      zoneId: cfg.dns.zoneId,
      name: cfg.dns.apiHostname,
      type: "CNAME",
      ttl: 60,
      records: [loadBalancerHostname],
      setIdentifier: `${prefix}-${failover.toLowerCase()}`,
      failoverRoutingPolicies: [{ type: failover }],
      healthCheckId: health.id,
    },
    opts,
  );
  return { healthCheckId: health.id, record: cfg.dns.apiHostname };
}
