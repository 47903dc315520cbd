/**
 * Disaster recovery, AWS side. The `prod-dr` stack (platform:dr.role = standby) runs in the second
 * region and reads the primary stack's outputs: its database replicates the primary's
 * (database.ts), it shares the primary's database credentials and PagerDuty integration, and it
 * re-exports what its cluster stack needs of them. The API's failover record is the cluster
 * stack's (infra/cluster/dns.ts): it points at the load balancer Kubernetes creates.
 * RTO/RPO targets are platform:dr.rtoHours and platform:dr.rpoHours (4 h / 1 h).
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "./context.js";
import type { DatabaseCredentials } from "./database.js";

export interface PrimaryStack {
  /** The primary's database (the source of this standby's read replica). */
  readonly databaseArn: pulumi.Output<string>;
  readonly databaseCredentials: pulumi.Output<DatabaseCredentials>;
  readonly pagerdutyRoutingKey: pulumi.Output<string>;
  /** PagerDuty's Amazon CloudWatch integration URL for backup failures (secret). */
  readonly backupAlertsEndpoint: pulumi.Output<string>;
}

/** The primary stack's outputs, on a standby stack only. */
export function primaryStack(ctx: PlatformContext): PrimaryStack | undefined {
  const { cfg, prefix } = ctx;
  if (cfg.dr.role !== "standby" || !cfg.dr.primaryStack) return undefined;
  const ref = new pulumi.StackReference(`${prefix}-primary`, { name: cfg.dr.primaryStack });
  return {
    databaseArn: ref.requireOutput("databaseArn").apply(String),
    databaseCredentials: pulumi.secret(ref.requireOutput("databaseCredentials") as pulumi.Output<DatabaseCredentials>),
    pagerdutyRoutingKey: pulumi.secret(ref.requireOutput("pagerdutyRoutingKey").apply(String)),
    backupAlertsEndpoint: pulumi.secret(ref.requireOutput("backupAlertsEndpoint").apply(String)),
  };
}
