/**
 * The contract between the two Pulumi projects of an environment (and the delivery workflows):
 * - `platform` (root Pulumi.yaml, infra/index.ts): everything AWS, run from anywhere with AWS API
 *   access (a GitHub-hosted runner with the `<env>-deploy-aws` role);
 * - `platform-cluster` (infra/cluster/Pulumi.yaml, infra/cluster/index.ts): every Kubernetes and
 *   Helm resource, run from the deploy runner inside the VPC with the `<env>-deploy-cluster` role.
 * Both have one stack per environment, with the same name. The cluster stack reads the AWS stack's
 * outputs (AwsStackOutputs) through a StackReference; the secret ones are secret outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DatabaseComponent } from "../model/database-roles.js";

export const AWS_PROJECT = "platform";
export const CLUSTER_PROJECT = "platform-cluster";

/** The AWS stack of an environment, as a StackReference names it: `<org>/platform/<env>`. */
export function awsStackName(organization: string, environment: string): string {
  return `${organization}/${AWS_PROJECT}/${environment}`;
}

export interface BackupStorageOutput {
  readonly rule: string;
  readonly resourceTypes: readonly string[];
  readonly schedule: string;
  readonly storageClass: string;
  readonly retentionDays: number;
  readonly copiedTo?: string;
}

/** Everything the AWS stack exports, resolved. */
export interface AwsStackOutputs {
  readonly environment: string;
  readonly tier: string;
  readonly region: string;
  readonly drRole: "primary" | "standby";
  /** False on a standby until its database is promoted. */
  readonly databaseWritable: boolean;
  readonly rtoHours: number;
  readonly rpoHours: number;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly clusterName: string;
  readonly clusterEndpoint: string;
  readonly clusterCertificateAuthority: string;
  readonly oidcProviderArn: string;
  readonly oidcIssuer: string;
  /** The cluster security group (control plane and nodes): what the database and broker admit. */
  readonly nodeSecurityGroupId: string;
  readonly loadBalancerSecurityGroupId: string;
  /** The API's ACM certificate (the stack's region), for the NLB's TLS listener. */
  readonly apiCertificateArn: string;
  /** The application image repository; the ops image is `${imageRepository}-ops`. */
  readonly imageRepository: string;
  /** IRSA role ARN per service account, keyed "<namespace>/<name>" (service-accounts.ts). */
  readonly irsaRoleArns: Record<string, string>;
  readonly databaseIdentifier: string;
  readonly databaseArn: string;
  readonly databaseAddress: string;
  readonly databaseSecretArn: string;
  readonly databaseSubnetGroupName: string;
  readonly databaseSecurityGroupId: string;
  /** Read replicas whose lag CloudWatch reports (the in-region replica; a standby itself). */
  readonly databaseReplicaIdentifiers: string[];
  /** Secret: one URL per component role. */
  readonly databaseUrls: Record<DatabaseComponent, string>;
  /** Secret: the master user's URL (the db-roles Job only). */
  readonly databaseMasterUrl: string;
  /** Secret: the passwords (a standby shares its primary's). */
  readonly databaseCredentials: { master: string; roles: Record<DatabaseComponent, string> };
  readonly replicatedBackupsArn?: string;
  readonly brokerArn: string;
  readonly brokerName: string;
  readonly brokerUser: string;
  readonly brokerManagementUrl: string;
  /** Secret. */
  readonly brokerAmqpUrl: string;
  /** Secret. */
  readonly brokerPassword: string;
  readonly brokerSecretArn: string;
  readonly imagesBucket: string;
  readonly dumpsBucket: string;
  readonly dumpsReplicaBucket?: string;
  readonly frontendBucket: string;
  readonly frontendDistributionId: string;
  readonly frontendDomain: string;
  /** The frontend's ACM certificate (us-east-1), on the distribution. */
  readonly frontendCertificateArn: string;
  /** The role the frontend's repository deploys as (`<env>-deploy-frontend`, through deploy-frontend.yml). */
  readonly frontendDeployRole: string;
  readonly frontendHostname?: string;
  readonly backupVault: string;
  readonly backupFailuresTopic: string;
  /** What the recovery points are and cost (storage class, retention) per backup rule. */
  readonly backupStorage: BackupStorageOutput[];
  /** Secret, where the environment pages. */
  readonly pagerdutyRoutingKey?: string;
  /** Secret, on the stack that owns the PagerDuty services (its standby reads it). */
  readonly backupAlertsEndpoint?: string;
  /** The roles GitHub Actions workflows assume (OIDC): aws, cluster, images. */
  readonly githubDeployRoles: { aws: string; cluster: string; images?: string; preview: string; frontend: string };
  /** The deploy runner: its CodeBuild project and the `runs-on` label of its jobs. */
  readonly deployRunner?: { project: string; label: string };
}

/** The outputs that are secrets (never printed by `pulumi stack output` without --show-secrets). */
export const SECRET_OUTPUTS = ["databaseUrls", "databaseMasterUrl", "databaseCredentials", "brokerAmqpUrl", "brokerPassword", "pagerdutyRoutingKey", "backupAlertsEndpoint"] as const satisfies readonly (keyof AwsStackOutputs)[];

/** What the AWS program returns: each output as an Input of its resolved type. */
export type AwsStackExports = { readonly [K in keyof AwsStackOutputs]: pulumi.Input<AwsStackOutputs[K]> };
