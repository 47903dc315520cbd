/**
 * The API's public name: a Route 53 failover record on the load balancer the api-public Service
 * creates (only known once Kubernetes made it, hence the cluster stack's), with a health check on
 * its /readyz. The primary stack owns the PRIMARY record. The standby's SECONDARY record exists
 * only once it is promoted (platform:dr.promoted): Route 53 never fails over to a read-only replica;
 * its health check exists all along, so on-call sees whether the standby would serve.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "../context.js";
import type { ClusterContext } from "./context.js";

export interface FailoverDns {
  readonly healthCheckId: pulumi.Output<string>;
  /** The record's name, where this stack has one. */
  readonly record?: string;
}

export function failoverDns(ctx: ClusterContext, loadBalancerHostname: pulumi.Input<string>): FailoverDns {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const standby = cfg.dr.role === "standby";
  const failover = standby ? "SECONDARY" : "PRIMARY";
  const health = new aws.route53.HealthCheck(
    `${prefix}-api-health`,
    { type: "HTTPS", fqdn: loadBalancerHostname, port: 443, resourcePath: "/readyz", requestInterval: 30, failureThreshold: 3, measureLatency: true, tags: tags(ctx, "api-health") },
    opts,
  );
  if (standby && cfg.dr.promoted !== true) return { healthCheckId: health.id };
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
      // The failover procedure may have written it with the CLI before this stack runs.
      allowOverwrite: true,
    },
    opts,
  );
  return { healthCheckId: health.id, record: cfg.dns.apiHostname };
}
