/**
 * EKS from plain @pulumi/aws resources: the control plane (secrets encrypted with KMS, every
 * control-plane log type, the API endpoint private, or public only to platform:cluster.
 * publicAccessCidrs), one managed node group in the private subnets on a launch template that
 * requires IMDSv2 with a hop limit of 1 (pods cannot reach the node's credentials), the OIDC
 * provider for IRSA and the core add-ons: the VPC CNI with network policy enforcement and its own
 * IRSA role, the EBS CSI driver with its own.
 *
 * Kubernetes objects are the cluster project's (infra/cluster): this stack exports the endpoint,
 * CA and OIDC provider it needs. Who may call the Kubernetes API is decided by EKS access entries
 * (deploy.ts): the creator of the cluster gets no implicit admin rights.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Network } from "./network.js";
import { assumeRolePolicy, trustPolicy } from "./iam.js";
import { IRSA_SERVICE_ACCOUNTS, irsaRoleName, serviceAccountSubject } from "./service-accounts.js";
import type { ServiceAccountRef } from "./service-accounts.js";
import { CONTROL_PLANE_LOG_TYPES, NODE_METADATA_OPTIONS, VPC_CNI_CONFIGURATION } from "./settings.js";

export interface Cluster {
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and the managed nodes. */
  readonly nodeSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcIssuer: pulumi.Output<string>;
  /** IAM role ARNs of the add-ons' service accounts (by IRSA_SERVICE_ACCOUNTS key). */
  readonly addonRoleArns: { readonly ebsCsi: pulumi.Output<string>; readonly vpcCni: pulumi.Output<string> };
}

export { CONTROL_PLANE_LOG_TYPES, NODE_METADATA_OPTIONS, VPC_CNI_CONFIGURATION };

function attach(ctx: PlatformContext, name: string, role: aws.iam.Role, policies: string[]): void {
  for (const policy of policies) {
    new aws.iam.RolePolicyAttachment(`${name}-${policy.split("/").pop()}`, { role: role.name, policyArn: policy }, { provider: ctx.aws });
  }
}

export function cluster(ctx: PlatformContext, net: Network): Cluster {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const clusterName = `${prefix}-eks`;

  const clusterRole = new aws.iam.Role(`${prefix}-eks-cluster`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags: tags(ctx, "eks-cluster-role") }, opts);
  attach(ctx, `${prefix}-eks-cluster`, clusterRole, ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);
  const secretsKey = new aws.kms.Key(`${prefix}-eks-secrets`, { description: `${clusterName} Kubernetes secrets`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "eks-secrets-key") }, opts);

  const eks = new aws.eks.Cluster(
    clusterName,
    {
      name: clusterName,
      version: cfg.cluster.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: net.privateSubnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: cfg.cluster.publicEndpoint,
        ...(cfg.cluster.publicEndpoint ? { publicAccessCidrs: cfg.cluster.publicAccessCidrs ?? [] } : {}),
      },
      // Access entries only (deploy.ts): nobody is cluster-admin by having created the cluster.
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
      tags: tags(ctx, "eks"),
    },
    opts,
  );

  // The node role: no CNI policy (the VPC CNI has its own IRSA role below).
  const nodeRole = new aws.iam.Role(`${prefix}-eks-nodes`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags: tags(ctx, "eks-node-role") }, opts);
  attach(ctx, `${prefix}-eks-nodes`, nodeRole, ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]);
  const launchTemplate = new aws.ec2.LaunchTemplate(
    `${prefix}-nodes`,
    {
      description: `${clusterName} nodes: IMDSv2 only, hop limit 1, encrypted gp3 root volume`,
      metadataOptions: NODE_METADATA_OPTIONS,
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
      tagSpecifications: [{ resourceType: "instance", tags: tags(ctx, "node") }, { resourceType: "volume", tags: tags(ctx, "node-volume") }],
      tags: tags(ctx, "nodes-launch-template"),
    },
    opts,
  );
  const nodes = new aws.eks.NodeGroup(
    `${prefix}-nodes`,
    {
      clusterName: eks.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: net.privateSubnetIds,
      instanceTypes: cfg.cluster.instanceTypes,
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: "ON_DEMAND",
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      scalingConfig: { minSize: cfg.cluster.minSize, desiredSize: cfg.cluster.desiredSize, maxSize: cfg.cluster.maxSize },
      updateConfig: { maxUnavailable: 1 },
      labels: { environment: cfg.environment, "node-role": "general" },
      tags: tags(ctx, "nodes"),
    },
    { ...opts, ignoreChanges: ["scalingConfig.desiredSize"] },
  );

  const issuer = eks.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
  const oidc = new aws.iam.OpenIdConnectProvider(`${prefix}-eks-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags: tags(ctx, "eks-oidc") }, opts);
  const irsa = { oidcProviderArn: oidc.arn, oidcIssuer: issuer };

  const ebsCsiRole = irsaRole(ctx, irsa, IRSA_SERVICE_ACCOUNTS.ebsCsi, { managedPolicies: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"] });
  const cniRole = irsaRole(ctx, irsa, IRSA_SERVICE_ACCOUNTS.vpcCni, { managedPolicies: ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"] });
  const addonSettings: Record<string, Partial<aws.eks.AddonArgs>> = {
    "vpc-cni": { serviceAccountRoleArn: cniRole.arn, configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION) },
    coredns: {},
    "kube-proxy": {},
    "aws-ebs-csi-driver": { serviceAccountRoleArn: ebsCsiRole.arn },
    // metrics-server feeds the API's CPU-based HPA.
    "metrics-server": {},
  };
  for (const [addon, settings] of Object.entries(addonSettings)) {
    new aws.eks.Addon(
      `${prefix}-addon-${addon}`,
      { clusterName: eks.name, addonName: addon, resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE", ...settings, tags: tags(ctx, `addon-${addon}`) },
      { ...opts, dependsOn: [nodes] },
    );
  }

  return {
    name: eks.name,
    arn: eks.arn,
    endpoint: eks.endpoint,
    certificateAuthority: eks.certificateAuthority.apply((ca) => ca.data ?? ""),
    nodeSecurityGroupId: eks.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? ""),
    oidcProviderArn: oidc.arn,
    oidcIssuer: issuer,
    addonRoleArns: { ebsCsi: ebsCsiRole.arn, vpcCni: cniRole.arn },
  };
}

export interface IrsaPolicies {
  readonly managedPolicies?: string[];
  /** An inline policy document (JSON), for least-privilege access to this stack's resources. */
  readonly inline?: pulumi.Input<string>;
}

export interface IrsaProvider {
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
}

/**
 * The IAM role of one Kubernetes service account (IRSA): named after it (irsaRoleName), tagged with
 * it, and assumable only with a web identity token of exactly that service account.
 */
export function irsaRole(ctx: PlatformContext, oidc: IrsaProvider, sa: ServiceAccountRef, policies: IrsaPolicies): aws.iam.Role {
  const opts = { provider: ctx.aws };
  const roleName = irsaRoleName(ctx.prefix, sa);
  const host = pulumi.output(oidc.oidcIssuer).apply((url) => url.replace(/^https:\/\//, ""));
  const assume = trustPolicy([
    {
      Principal: { Federated: oidc.oidcProviderArn },
      Action: ["sts:AssumeRoleWithWebIdentity"],
      Condition: { StringEquals: host.apply((h) => ({ [`${h}:sub`]: serviceAccountSubject(sa), [`${h}:aud`]: "sts.amazonaws.com" })) },
    },
  ]);
  const role = new aws.iam.Role(roleName, { name: roleName, assumeRolePolicy: assume, tags: tags(ctx, `irsa-${sa.namespace}-${sa.name}`, { "irsa-namespace": sa.namespace, "irsa-service-account": sa.name }) }, opts);
  for (const policy of policies.managedPolicies ?? []) {
    new aws.iam.RolePolicyAttachment(`${roleName}-${policy.split("/").pop()}`, { role: role.name, policyArn: policy }, opts);
  }
  if (policies.inline !== undefined) {
    new aws.iam.RolePolicy(roleName, { role: role.name, policy: policies.inline }, opts);
  }
  return role;
}
