/**
 * The Pulumi program: one stack per environment (Pulumi.<stack>.yaml), plus the prod standby
 * `prod-dr`. Read top to bottom, it is the table of contents of what a stack provisions.
 *
 * Pulumi calls the default export with no arguments: the environment (its validated config) and
 * the secrets are then read from the stack (config.ts). Tests and the plan renderer pass them in,
 * under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { PAGERDUTY_MODEL } from "../alerts/pagerduty.js";
import type { EnvironmentModel } from "../model/environments.js";
import { loadEnvironment, loadOperatorSecrets } from "./config.js";
import type { OperatorSecrets } from "./config.js";
import { createContext } from "./context.js";
import { network } from "./network.js";
import { cluster } from "./cluster.js";
import { database } from "./database.js";
import { backups } from "./backups.js";
import { broker, BROKER_USER } from "./broker.js";
import { frontend } from "./frontend.js";
import { privateBucket } from "./buckets.js";
import { pagerDuty } from "./pagerduty.js";
import { addons } from "./addons.js";
import { monitoring } from "./monitoring.js";
import { workloads } from "./workloads.js";
import { apiCertificate, failoverDns, primaryStack } from "./dr.js";

export default function platform(env: EnvironmentModel = loadEnvironment(), secrets: OperatorSecrets = loadOperatorSecrets()) {
  const ctx = createContext(env);
  const cfg = ctx.cfg;
  const primary = primaryStack(ctx); // standby (prod-dr) only: what it restores from

  const net = network(ctx);
  const eks = cluster(ctx, net);
  const db = database(ctx, { network: net, clientSecurityGroupId: eks.nodeSecurityGroupId, restoreFromAutomatedBackupsArn: primary?.replicatedBackupsArn });
  const backupPlan = backups(ctx, { resourceArns: [db.arn] });
  const mq = broker(ctx, { network: net, clientSecurityGroupId: eks.nodeSecurityGroupId });
  const site = frontend(ctx);
  const images = privateBucket(ctx, "images");
  const dumps = privateBucket(ctx, "db-dumps", { expireAfterDays: 14 });

  // Where critical alerts page (model: monitoring.pages): this stack's own PagerDuty service, or
  // on a standby the primary's; environments that page to Slack need no routing key at all.
  const pd = env.ownsPagerDutyService ? pagerDuty(ctx.prefix) : undefined;
  const pagerdutyRoutingKey = env.monitoring.pages === "pagerduty" ? (pd?.routingKeys[PAGERDUTY_MODEL.services[0]!.key] ?? primary?.pagerdutyRoutingKey) : undefined;
  if (env.monitoring.pages === "pagerduty" && !pagerdutyRoutingKey) throw new Error(`${env.name} pages through PagerDuty but has neither its own service nor a primary stack to read the routing key from`);

  const mon = monitoring(ctx, {
    cluster: eks,
    alertmanagerSecrets: { ...(pagerdutyRoutingKey ? { pagerdutyRoutingKey } : {}), slackWebhookUrl: secrets.slackWebhookUrl, smtpPassword: secrets.smtpPassword, heartbeatToken: secrets.heartbeatToken },
    databaseUrl: db.databaseUrl,
    databaseIdentifier: db.identifier,
    ...(cfg.rds.readReplica ? { replicaIdentifier: `${db.identifier}-replica` } : {}),
    broker: { managementUrl: mq.managementUrl, username: BROKER_USER, password: mq.password, brokerName: mq.brokerName },
  });
  const operators = addons(ctx, eks, { vpcId: net.vpcId, monitoringCrds: mon.crds });
  const apps = workloads(ctx, {
    cluster: eks,
    addons: operators,
    databaseUrl: db.databaseUrl,
    amqpUrl: mq.amqpUrl,
    database: { identifier: db.identifier, arn: db.arn, secretArn: db.secretArn, subnetGroupName: db.subnetGroupName, securityGroupId: db.securityGroupId },
    brokerSecretArn: mq.secretArn,
    images: { name: images.name, arn: images.arn },
    dumps: { name: dumps.name, arn: dumps.arn },
    vpcCidr: net.cidr,
    loadBalancer: { securityGroupId: net.loadBalancerSecurityGroupId, certificateArn: apiCertificate(ctx) },
  });
  const dns = failoverDns(ctx, apps.apiLoadBalancerHostname);

  return {
    environment: env.name,
    tier: env.tier,
    drRole: cfg.dr.role,
    rtoHours: cfg.dr.rtoHours,
    rpoHours: cfg.dr.rpoHours,
    vpcId: net.vpcId,
    clusterName: eks.name,
    databaseAddress: db.address,
    databaseSecretArn: db.secretArn,
    ...(db.replicatedBackupsArn ? { replicatedBackupsArn: db.replicatedBackupsArn } : {}),
    backupVault: backupPlan.vaultName,
    backupFailuresTopic: backupPlan.failureTopicArn,
    brokerArn: mq.arn,
    frontendDomain: site.distributionDomainName,
    apiHostname: dns.record,
    apiLoadBalancerHostname: apps.apiLoadBalancerHostname,
    ...(pagerdutyRoutingKey ? { pagerdutyRoutingKey: pulumi.secret(pagerdutyRoutingKey) } : {}),
    dashboards: mon.dashboards.map((d) => d.uid),
  };
}
