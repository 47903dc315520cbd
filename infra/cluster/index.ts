/**
 * The cluster project (`platform-cluster`): every Kubernetes and Helm resource of an environment,
 * applied from the deploy runner inside the VPC (the EKS endpoint is private in prod). One stack
 * per environment, named like it: the environment model comes from the root Pulumi.<stack>.yaml,
 * everything AWS from the AWS stack's outputs (../contract.ts), its own secrets from its stack
 * config (config.ts). Read top to bottom, it is the table of contents of what runs in the cluster.
 *
 * Pulumi calls the default export with no arguments. Tests and the plan renderer pass the
 * environment and the secrets in, under mocks whose StackReference answers with the AWS stack's
 * rendered outputs.
 */
import type { AlertmanagerSecretName } from "../../alerts/alertmanager.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { DATABASE_COMPONENTS } from "../../model/database-roles.js";
import type { DatabaseComponent } from "../../model/database-roles.js";
import * as pulumi from "@pulumi/pulumi";
import { IRSA_SERVICE_ACCOUNTS, serviceAccountKey } from "../service-accounts.js";
import { awsStack } from "./aws-stack.js";
import { loadClusterEnvironment, loadClusterSecrets } from "./config.js";
import type { ClusterSecrets } from "./config.js";
import { createClusterContext } from "./context.js";
import { monitoring } from "./monitoring.js";
import { addons } from "./addons.js";
import { workloads } from "./workloads.js";
import { failoverDns } from "./dns.js";

export default function platformCluster(env: EnvironmentModel = loadClusterEnvironment(), secrets: ClusterSecrets = loadClusterSecrets()) {
  const aws = awsStack(env);
  const ctx = createClusterContext(env, aws);
  const cfg = ctx.cfg;
  const writable = cfg.dr.role === "primary" || cfg.dr.promoted === true;
  const irsaRoleArns = aws.output("irsaRoleArns");
  const roleOf = (sa: (typeof IRSA_SERVICE_ACCOUNTS)[keyof typeof IRSA_SERVICE_ACCOUNTS]) => irsaRoleArns.apply((arns) => arns[serviceAccountKey(sa)] ?? "");
  const urls = aws.output("databaseUrls");
  const imageRepository = aws.output("imageRepository");

  const alertmanagerSecrets: Partial<Record<AlertmanagerSecretName, pulumi.Input<string>>> = {
    slackWebhookUrl: secrets.slackWebhookUrl,
    smtpPassword: secrets.smtpPassword,
    heartbeatToken: secrets.heartbeatToken,
    ...(env.monitoring.pages === "pagerduty" ? { pagerdutyRoutingKey: aws.output("pagerdutyRoutingKey") } : {}),
  };
  const mon = monitoring(ctx, {
    alertmanagerSecrets,
    databaseUrl: urls.apply((u) => u.exporter),
    databaseIdentifier: aws.output("databaseIdentifier"),
    replicaIdentifiers: aws.output("databaseReplicaIdentifiers"),
    broker: { managementUrl: aws.output("brokerManagementUrl"), username: aws.output("brokerUser"), password: aws.output("brokerPassword"), brokerName: aws.output("brokerName") },
    cloudwatchExporterRoleArn: roleOf(IRSA_SERVICE_ACCOUNTS.cloudwatchExporter),
    opsImage: pulumi.interpolate`${imageRepository}-ops:${cfg.app.imageTag}`,
  });
  const operators = addons(ctx, {
    clusterName: aws.output("clusterName"),
    vpcId: aws.output("vpcId"),
    loadBalancerControllerRoleArn: roleOf(IRSA_SERVICE_ACCOUNTS.loadBalancerController),
    monitoringCrds: mon.crds,
  });
  const apps = workloads(ctx, {
    addons: operators,
    imageRepository,
    amqpUrl: aws.output("brokerAmqpUrl"),
    database: {
      identifier: aws.output("databaseIdentifier"),
      subnetGroupName: aws.output("databaseSubnetGroupName"),
      securityGroupId: aws.output("databaseSecurityGroupId"),
      urls,
      masterUrl: aws.output("databaseMasterUrl"),
      rolePasswords: aws.output("databaseCredentials").apply((c) => Object.fromEntries(DATABASE_COMPONENTS.map((k) => [k, c.roles[k]])) as Record<DatabaseComponent, string>),
      writable,
    },
    irsaRoleArns,
    images: { name: aws.output("imagesBucket") },
    dumps: { name: aws.output("dumpsBucket") },
    vpcCidr: cfg.network.cidr,
    loadBalancer: { securityGroupId: aws.output("loadBalancerSecurityGroupId"), certificateArn: aws.output("apiCertificateArn") },
  });
  const dns = failoverDns(ctx, apps.apiLoadBalancerHostname);

  return {
    environment: env.name,
    awsStack: aws.name,
    namespace: apps.namespace,
    apiLoadBalancerHostname: apps.apiLoadBalancerHostname,
    apiHealthCheckId: dns.healthCheckId,
    ...(dns.record ? { apiHostname: dns.record } : {}),
    ...(apps.migrationJobName ? { migrationJobName: apps.migrationJobName } : {}),
    dashboards: mon.dashboards.map((d) => d.uid),
  };
}
