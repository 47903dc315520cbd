/**
 * The AWS project (`platform`): one stack per environment (Pulumi.<stack>.yaml), plus the prod
 * standby `prod-dr`. Read top to bottom, it is the table of contents of what a stack provisions in
 * AWS. Every Kubernetes object is the cluster project's (infra/cluster), which reads this stack's
 * outputs (contract.ts); this project never talks to the Kubernetes API, so it runs from anywhere
 * with AWS API access.
 *
 * Pulumi calls the default export with no arguments: the environment (its validated config) is
 * then read from the stack (config.ts). Tests and the plan renderer pass it in, under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { PAGERDUTY_MODEL } from "../alerts/pagerduty.js";
import type { EnvironmentModel } from "../model/environments.js";
import { loadEnvironment } from "./config.js";
import { createContext } from "./context.js";
import type { AwsStackExports } from "./contract.js";
import { network } from "./network.js";
import { cluster } from "./cluster.js";
import { registry } from "./registry.js";
import { database } from "./database.js";
import { backups } from "./backups.js";
import { broker, BROKER_USER } from "./broker.js";
import { frontend } from "./frontend.js";
import { accessLogBucket, dumpBuckets, privateBucket } from "./buckets.js";
import { pagerDuty } from "./pagerduty.js";
import { irsaRoleArnsOutput, workloadRoles } from "./iam-roles.js";
import { dnsValidatedCertificate } from "./certificates.js";
import { deployAccess } from "./deploy.js";
import { primaryStack } from "./dr.js";

export default function platform(env: EnvironmentModel = loadEnvironment()): AwsStackExports {
  const ctx = createContext(env);
  const cfg = ctx.cfg;
  const primary = primaryStack(ctx); // standby (prod-dr) only: the database it replicates, prod's PagerDuty

  const net = network(ctx);
  const eks = cluster(ctx, net);
  const images = registry(ctx);
  const db = database(ctx, {
    network: net,
    clientSecurityGroupId: eks.nodeSecurityGroupId,
    ...(primary ? { replicateFrom: { arn: primary.databaseArn, credentials: primary.databaseCredentials } } : {}),
  });
  const mq = broker(ctx, { network: net, clientSecurityGroupId: eks.nodeSecurityGroupId });

  const logs = accessLogBucket(ctx);
  const replicateDumps = cfg.backup.copyToSecondaryRegion;
  const secondaryLogs = replicateDumps ? accessLogBucket(ctx, ctx.awsSecondary, `-${cfg.secondaryRegion}`) : undefined;
  const site = frontend(ctx, logs);
  const productImages = privateBucket(ctx, "images", { logs });
  const dumps = dumpBuckets(ctx, { primary: logs, ...(secondaryLogs ? { secondary: secondaryLogs } : {}) }, replicateDumps);

  // Where critical alerts page (model: monitoring.pages): this stack's own PagerDuty service, or
  // on a standby the primary's; environments that page to Slack need no routing key at all.
  const pd = env.ownsPagerDutyService ? pagerDuty(ctx.prefix) : undefined;
  const paging = env.monitoring.pages === "pagerduty";
  const pagerdutyRoutingKey = paging ? (pd?.routingKeys[PAGERDUTY_MODEL.services[0]!.key] ?? primary?.pagerdutyRoutingKey) : undefined;
  const backupAlertsEndpoint = paging ? (pd?.snsEndpoint ?? primary?.backupAlertsEndpoint) : undefined;
  if (paging && (!pagerdutyRoutingKey || !backupAlertsEndpoint)) throw new Error(`${env.name} pages through PagerDuty but has neither its own service nor a primary stack to read the integrations from`);

  const backupPlan = backups(ctx, {
    resourceArns: db.writable ? [db.arn] : [],
    onCall: { email: env.monitoring.digestEmail, ...(backupAlertsEndpoint ? { pagerdutyEndpoint: backupAlertsEndpoint } : {}) },
  });
  const roles = workloadRoles(ctx, eks, {
    images: productImages,
    dumps: { arn: dumps.primary.arn, keyArn: dumps.keyArn },
    database: { identifier: db.identifier, kmsKeyArn: db.kmsKeyArn, subnetGroupName: db.subnetGroupName },
  });
  const apiCertificateArn = dnsValidatedCertificate(ctx, "api", cfg.dns.apiHostname, ctx.aws);
  const deploy = deployAccess(ctx, { network: net, cluster: eks, repositoryArns: images.repositoryArns, frontend: site });

  return {
    environment: env.name,
    tier: env.tier,
    region: cfg.region,
    drRole: cfg.dr.role,
    databaseWritable: db.writable,
    rtoHours: cfg.dr.rtoHours,
    rpoHours: cfg.dr.rpoHours,
    vpcId: net.vpcId,
    vpcCidr: net.cidr,
    clusterName: eks.name,
    clusterEndpoint: eks.endpoint,
    clusterCertificateAuthority: eks.certificateAuthority,
    oidcProviderArn: eks.oidcProviderArn,
    oidcIssuer: eks.oidcIssuer,
    nodeSecurityGroupId: eks.nodeSecurityGroupId,
    loadBalancerSecurityGroupId: net.loadBalancerSecurityGroupId,
    apiCertificateArn,
    imageRepository: images.repository,
    irsaRoleArns: irsaRoleArnsOutput(roles),
    databaseIdentifier: db.identifier,
    databaseArn: db.arn,
    databaseAddress: db.address,
    databaseSecretArn: db.secretArn,
    databaseSubnetGroupName: db.subnetGroupName,
    databaseSecurityGroupId: db.securityGroupId,
    databaseReplicaIdentifiers: db.replicaIdentifiers,
    databaseUrls: db.urls,
    databaseMasterUrl: db.masterUrl,
    databaseCredentials: db.credentials,
    ...(db.replicatedBackupsArn ? { replicatedBackupsArn: db.replicatedBackupsArn } : {}),
    brokerArn: mq.arn,
    brokerName: mq.brokerName,
    brokerUser: BROKER_USER,
    brokerManagementUrl: mq.managementUrl,
    brokerAmqpUrl: mq.amqpUrl,
    brokerPassword: mq.password,
    brokerSecretArn: mq.secretArn,
    imagesBucket: productImages.name,
    dumpsBucket: dumps.primary.name,
    ...(dumps.replica ? { dumpsReplicaBucket: dumps.replica.name } : {}),
    frontendBucket: site.bucketName,
    frontendDistributionId: site.distributionId,
    frontendDomain: site.distributionDomainName,
    frontendCertificateArn: site.certificateArn,
    frontendDeployRole: deploy.roles.frontend,
    ...(site.hostname ? { frontendHostname: site.hostname } : {}),
    backupVault: backupPlan.vaultName,
    backupFailuresTopic: backupPlan.failureTopicArn,
    backupStorage: backupPlan.storage,
    ...(pagerdutyRoutingKey ? { pagerdutyRoutingKey: pulumi.secret(pagerdutyRoutingKey) } : {}),
    ...(pd ? { backupAlertsEndpoint: pd.snsEndpoint } : {}),
    githubDeployRoles: pulumi.output(deploy.roles),
    ...(deploy.runner ? { deployRunner: pulumi.output(deploy.runner) } : {}),
  };
}
