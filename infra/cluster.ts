/**
 * EKS from plain @pulumi/aws resources: the control plane (secrets encrypted with KMS, private
 * endpoint), one managed node group in the private subnets, the OIDC provider for IRSA, the core
 * add-ons, and a Kubernetes provider built from the cluster's outputs.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Network } from "./network.js";

export interface Cluster {
  readonly name: pulumi.Output<string>;
  /** The security group EKS attaches to the control plane and the managed nodes. */
  readonly nodeSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  /** Everything that must exist before Kubernetes objects can be scheduled. */
  readonly ready: pulumi.Resource[];
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
}

function attach(ctx: PlatformContext, name: string, role: aws.iam.Role, policies: string[]): void {
  for (const policy of policies) {
    new aws.iam.RolePolicyAttachment(`${name}-${policy.split("/").pop()}`, { role: role.name, policyArn: policy }, { provider: ctx.aws });
  }
}

/** The kubeconfig for the k8s provider: token from `aws eks get-token`, never a static secret. */
export function kubeconfig(name: string, endpoint: string, caData: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": caData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [{ name, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", name, "--region", region], interactiveMode: "Never" } } }],
  });
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
      vpcConfig: { subnetIds: net.privateSubnetIds, endpointPrivateAccess: true, endpointPublicAccess: cfg.cluster.publicEndpoint },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: ["api", "audit", "authenticator"],
      tags: tags(ctx, "eks"),
    },
    opts,
  );

  const nodeRole = new aws.iam.Role(`${prefix}-eks-nodes`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags: tags(ctx, "eks-node-role") }, opts);
  attach(ctx, `${prefix}-eks-nodes`, nodeRole, [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ]);
  const nodes = new aws.eks.NodeGroup(
    `${prefix}-nodes`,
    {
      clusterName: eks.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: net.privateSubnetIds,
      instanceTypes: cfg.cluster.instanceTypes,
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: "ON_DEMAND",
      scalingConfig: { minSize: cfg.cluster.minSize, desiredSize: cfg.cluster.desiredSize, maxSize: cfg.cluster.maxSize },
      updateConfig: { maxUnavailable: 1 },
      labels: { environment: cfg.environment, "node-role": "general" },
      tags: tags(ctx, "nodes"),
    },
    { ...opts, ignoreChanges: ["scalingConfig.desiredSize"] },
  );

  const issuer = eks.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
  const oidc = new aws.iam.OpenIdConnectProvider(`${prefix}-eks-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags: tags(ctx, "eks-oidc") }, opts);

  const ebsCsiRole = irsaRole(ctx, { oidcProviderArn: oidc.arn, oidcIssuer: issuer }, "ebs-csi", "kube-system", "ebs-csi-controller-sa", {
    managedPolicies: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
  });
  const addons: aws.eks.Addon[] = [];
  // metrics-server feeds the API's CPU-based HPA.
  for (const addon of ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "metrics-server"]) {
    addons.push(
      new aws.eks.Addon(
        `${prefix}-addon-${addon}`,
        {
          clusterName: eks.name,
          addonName: addon,
          resolveConflictsOnUpdate: "OVERWRITE",
          ...(addon === "aws-ebs-csi-driver" ? { serviceAccountRoleArn: ebsCsiRole.arn } : {}),
          tags: tags(ctx, `addon-${addon}`),
        },
        { ...opts, dependsOn: [nodes] },
      ),
    );
  }

  const provider = new k8s.Provider(`${prefix}-k8s`, {
    kubeconfig: pulumi.all([eks.name, eks.endpoint, eks.certificateAuthority]).apply(([name, endpoint, ca]) => kubeconfig(name, endpoint, ca.data ?? "", cfg.region)),
    enableServerSideApply: true,
  });

  return {
    name: eks.name,
    nodeSecurityGroupId: eks.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? ""),
    oidcProviderArn: oidc.arn,
    oidcIssuer: issuer,
    provider,
    ready: [nodes, ...addons],
  };
}

export interface IrsaPolicies {
  readonly managedPolicies?: string[];
  /** An inline policy document (JSON), for least-privilege access to this stack's resources. */
  readonly inline?: pulumi.Input<string>;
}

/** An IAM role only the given Kubernetes service account can assume (IRSA). */
export function irsaRole(
  ctx: PlatformContext,
  oidc: { oidcProviderArn: pulumi.Input<string>; oidcIssuer: pulumi.Input<string> },
  name: string,
  namespace: string,
  serviceAccount: string,
  policies: IrsaPolicies,
): aws.iam.Role {
  const opts = { provider: ctx.aws };
  const assume = pulumi.all([oidc.oidcProviderArn, oidc.oidcIssuer]).apply(([arn, url]) => {
    const host = url.replace(/^https:\/\//, "");
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" } },
        },
      ],
    });
  });
  const role = new aws.iam.Role(`${ctx.prefix}-irsa-${name}`, { assumeRolePolicy: assume, tags: tags(ctx, `irsa-${name}`) }, opts);
  for (const policy of policies.managedPolicies ?? []) {
    new aws.iam.RolePolicyAttachment(`${ctx.prefix}-irsa-${name}-${policy.split("/").pop()}`, { role: role.name, policyArn: policy }, opts);
  }
  if (policies.inline !== undefined) {
    new aws.iam.RolePolicy(`${ctx.prefix}-irsa-${name}`, { role: role.name, policy: policies.inline }, opts);
  }
  return role;
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect?: "Allow" | "Deny";
  readonly Principal?: Record<string, string | string[]>;
  readonly Action: string[];
  readonly Resource: pulumi.Input<string>[] | "*";
  readonly Condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

/** A JSON IAM policy document; resources and conditions may hold outputs (resolved deeply). */
export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
  const resolved = statements.map((s) => ({
    ...(s.Sid ? { Sid: s.Sid } : {}),
    Effect: s.Effect ?? "Allow",
    ...(s.Principal ? { Principal: s.Principal } : {}),
    Action: s.Action,
    Resource: s.Resource,
    ...(s.Condition ? { Condition: s.Condition } : {}),
  }));
  return pulumi.output(resolved).apply((statement) => JSON.stringify({ Version: "2012-10-17", Statement: statement }));
}
