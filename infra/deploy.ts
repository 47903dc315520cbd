/**
 * The deploy path (README "Deploying", infra/README.md "Contract for the delivery workflows").
 *
 * - GitHub Actions authenticates with OIDC (no long-lived keys): the account's OIDC provider for
 *   token.actions.githubusercontent.com (created by one stack per account, platform:deploy.
 *   oidcProvider) and three roles per environment, each trusting only the repository and either the
 *   environment's GitHub environment (whose protection rules decide who and which branch may
 *   deploy) or the image branch:
 *   - `<env>-deploy-aws`: runs `pulumi up` of this (AWS) stack from a GitHub-hosted runner;
 *   - `<env>-deploy-cluster`: runs `pulumi up` of the cluster stack (infra/cluster) from the deploy
 *     runner; the only principal with an EKS access entry;
 *   - `<env>-push-images`: pushes the application and ops images to this stack's ECR repositories;
 *   - `<env>-preview`: `pulumi preview` of this (AWS) stack on the repository's pull requests (ci.yml):
 *     read-only (ReadOnlyAccess fenced by explicit denies: no object read outside this stack's state,
 *     no secret values, no logs), with the stack's state and the secrets key to decrypt its config.
 *     It has no EKS access entry: the cluster project's preview needs the Kubernetes `patch` verb
 *     (server-side apply previews are dry-run PATCH requests, which Kubernetes authorizes like real
 *     ones; Pulumi's "Managing resources with Server-Side Apply", Prerequisites), and code of any
 *     branch must never hold cluster write access. Pull requests review the cluster project's
 *     rendered plan (synth's infra-cluster-plan.json) instead; the live diff is `pulumi up --diff`
 *     of the deploy, behind the environment's protection rules;
 *   - `<env>-deploy-frontend`: the frontend's repository (platform:deploy.frontendRepository), in its
 *     GitHub environment named like this stack, through .github/workflows/deploy-frontend.yml:
 *     objects of the frontend bucket, invalidations of the distribution, and the deployment's
 *     outcome metric (FRONTEND_DEPLOY_SIGNAL) in its CloudWatch namespace only.
 * - The deploy runner: a CodeBuild project configured as a GitHub Actions runner (CodeBuild's
 *   managed runner: a webhook on WORKFLOW_JOB_QUEUED), in the private subnets, allowed to reach
 *   the EKS API endpoint (private in prod). Workflows select it with
 *   `runs-on: codebuild-<env>-deploy-${{ github.run_id }}-${{ github.run_attempt }}`
 *   ("Tutorial: Configure a CodeBuild-hosted GitHub Actions runner" and "Label overrides supported
 *   with the CodeBuild-hosted GitHub Actions runner", AWS CodeBuild User Guide).
 *
 * The runner's own (CodeBuild service) role can do nothing but run builds (logs, its network
 * interfaces, the GitHub connection): any workflow of the repository can target the runner's label,
 * so cluster access is bound to the cluster deploy role, which only a job of the environment's GitHub
 * environment can assume (its OIDC token's `sub` names the environment).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Cluster } from "./cluster.js";
import type { Network } from "./network.js";
import { logRetentionDays } from "./network.js";
import { policyDocument, trustPolicy } from "./iam.js";
import { AWS_PROJECT, CLUSTER_PROJECT } from "./contract.js";
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, READ_ONLY_POLICY } from "./settings.js";
import type { Frontend } from "./frontend.js";
import { FRONTEND_DEPLOY_SIGNAL } from "../model/delivery.js";

export const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`;

/** The EKS access policy of the cluster deploy role: cluster scope, because the cluster stack creates namespaces, CRDs and cluster roles (Helm charts). */
export const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** The CodeBuild project that runs the deploy jobs: `<env>-deploy`. */
export function runnerProjectName(prefix: string): string {
  return `${prefix}-deploy`;
}

/** The `runs-on` label of a job that runs on the environment's deploy runner. */
export function runnerLabel(prefix: string): string {
  return `codebuild-${runnerProjectName(prefix)}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/** The OIDC `sub` of a job of the repository that runs in the GitHub environment `environment`. */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

/** The OIDC `sub` of a job of the repository that runs for a push to `branch`. */
export function branchSubject(repository: string, branch: string): string {
  return `repo:${repository}:ref:refs/heads/${branch}`;
}

/** The OIDC `sub` of a job of the repository that runs for a pull request (from a branch of the repository: forks get no token). */
export function pullRequestSubject(repository: string): string {
  return `repo:${repository}:pull_request`;
}

export { READ_ONLY_POLICY } from "./settings.js";

/** The GitHub OIDC roles of an environment, by what they do: `<env>-<name>`. */
export const GITHUB_ROLES = {
  deployAws: "deploy-aws",
  deployCluster: "deploy-cluster",
  pushImages: "push-images",
  preview: "preview",
  deployFrontend: "deploy-frontend",
} as const;

/** The IAM name of one of an environment's GitHub OIDC roles. */
export function githubRoleName(prefix: string, role: keyof typeof GITHUB_ROLES): string {
  return `${prefix}-${GITHUB_ROLES[role]}`;
}

/** What the AWS Managed runner image needs: Node 20, the AWS CLI (aws eks get-token), docker for nothing. */
export const RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0";

export interface DeployArgs {
  readonly network: Network;
  readonly cluster: Cluster;
  /** ECR repositories the image-push role may push to. */
  readonly repositoryArns: pulumi.Output<string>[];
  /** The frontend bucket and distribution the frontend deploy role writes to. */
  readonly frontend: Pick<Frontend, "bucketArn" | "distributionArn">;
}

export interface Deploy {
  readonly roles: {
    readonly aws: pulumi.Output<string>;
    readonly cluster: pulumi.Output<string>;
    readonly images?: pulumi.Output<string>;
    readonly preview: pulumi.Output<string>;
    readonly frontend: pulumi.Output<string>;
  };
  readonly runner?: { readonly project: pulumi.Output<string>; readonly label: string };
}

export function deployAccess(ctx: PlatformContext, args: DeployArgs): Deploy {
  const { cfg, prefix } = ctx;
  const d = cfg.deploy;
  const opts = { provider: ctx.aws };
  const account = ctx.accountId;

  const provider =
    d.oidcProvider === "create"
      ? new aws.iam.OpenIdConnectProvider(`${prefix}-github-oidc`, { url: GITHUB_OIDC_URL, clientIdLists: [GITHUB_OIDC_AUDIENCE], tags: tags(ctx, "github-oidc") }, opts).arn
      : aws.iam.getOpenIdConnectProviderOutput({ url: GITHUB_OIDC_URL }, opts).arn;
  const githubRole = (role: keyof typeof GITHUB_ROLES, subject: string, description: string) =>
    new aws.iam.Role(
      githubRoleName(prefix, role),
      {
        name: githubRoleName(prefix, role),
        description,
        maxSessionDuration: 3600,
        assumeRolePolicy: trustPolicy([
          {
            Principal: { Federated: provider },
            Action: ["sts:AssumeRoleWithWebIdentity"],
            Condition: { StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE, [`${GITHUB_OIDC_HOST}:sub`]: subject } },
          },
        ]),
        tags: tags(ctx, GITHUB_ROLES[role], { "github-subject": subject.replace(/[^\w.:/=+@-]/g, "_") }),
      },
      opts,
    );
  const environmentSub = environmentSubject(d.repository, ctx.env.name);

  // ---- the AWS stack's deployer: everything but IAM outside this environment's names.
  const awsRole = githubRole("deployAws", environmentSub, `pulumi up of ${AWS_PROJECT}/${ctx.env.name} from GitHub Actions`);
  new aws.iam.RolePolicyAttachment(`${prefix}-deploy-aws-PowerUserAccess`, { role: awsRole.name, policyArn: "arn:aws:iam::aws:policy/PowerUserAccess" }, opts);
  new aws.iam.RolePolicy(
    `${prefix}-deploy-aws-iam`,
    {
      role: awsRole.name,
      policy: policyDocument([
        {
          Sid: "RolesOfThisEnvironment",
          Action: [
            "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
            "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
            "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PassRole",
          ],
          Resource: [pulumi.interpolate`arn:aws:iam::${account}:role/${prefix}-*`],
        },
        {
          Sid: "OidcProviders",
          Action: ["iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider"],
          Resource: [pulumi.interpolate`arn:aws:iam::${account}:oidc-provider/*`],
        },
        { Sid: "ReadIam", Action: ["iam:ListOpenIDConnectProviders", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListRoles"], Resource: "*" },
      ]),
    },
    opts,
  );

  // ---- the cluster stack's deployer: the EKS access entry, its own state, the AWS stack's outputs.
  const clusterRole = githubRole("deployCluster", environmentSub, `pulumi up of ${CLUSTER_PROJECT}/${ctx.env.name} from the deploy runner`);
  const bucket = `arn:aws:s3:::${d.stateBucket}`;
  const own = (dir: string) => `${bucket}/.pulumi/${dir}/${CLUSTER_PROJECT}/${ctx.env.name}`;
  new aws.iam.RolePolicy(
    `${prefix}-deploy-cluster`,
    {
      role: clusterRole.name,
      policy: policyDocument([
        { Sid: "DescribeCluster", Action: ["eks:DescribeCluster"], Resource: [args.cluster.arn] },
        { Sid: "ReadAwsStackOutputs", Action: ["s3:GetObject"], Resource: [`${bucket}/.pulumi/stacks/${AWS_PROJECT}/${ctx.env.name}.json*`, `${bucket}/.pulumi/meta.yaml`] },
        {
          Sid: "OwnStackState",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          Resource: [`${bucket}/.pulumi/stacks/${CLUSTER_PROJECT}/${ctx.env.name}.json*`, `${own("history")}/*`, `${own("backups")}/*`, `${bucket}/.pulumi/locks/organization/${CLUSTER_PROJECT}/${ctx.env.name}/*`],
        },
        {
          Sid: "ListOwnState",
          Action: ["s3:ListBucket"],
          Resource: [bucket],
          Condition: { StringLike: { "s3:prefix": [".pulumi/", `.pulumi/stacks/${AWS_PROJECT}/${ctx.env.name}*`, `.pulumi/stacks/${CLUSTER_PROJECT}/*`, `.pulumi/*/${CLUSTER_PROJECT}/${ctx.env.name}/*`, `.pulumi/locks/organization/${CLUSTER_PROJECT}/${ctx.env.name}/*`] } },
        },
        {
          Sid: "StackSecrets",
          Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
          Resource: "*",
          Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": d.secretsKeyAlias } },
        },
        // The API's failover record and its health check (infra/cluster/dns.ts): only that name in this zone.
        {
          Sid: "ApiFailoverRecord",
          Action: ["route53:ChangeResourceRecordSets"],
          Resource: [`arn:aws:route53:::hostedzone/${cfg.dns.zoneId}`],
          Condition: { "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [cfg.dns.apiHostname] } },
        },
        { Sid: "ReadZone", Action: ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"], Resource: [`arn:aws:route53:::hostedzone/${cfg.dns.zoneId}`] },
        { Sid: "Changes", Action: ["route53:GetChange"], Resource: ["arn:aws:route53:::change/*"] },
        {
          Sid: "ApiHealthCheck",
          Action: ["route53:CreateHealthCheck", "route53:GetHealthCheck", "route53:UpdateHealthCheck", "route53:DeleteHealthCheck", "route53:ChangeTagsForResource", "route53:ListTagsForResource"],
          Resource: "*",
        },
      ]),
    },
    opts,
  );
  const entry = new aws.eks.AccessEntry(`${prefix}-deploy-cluster`, { clusterName: args.cluster.name, principalArn: clusterRole.arn, type: "STANDARD", tags: tags(ctx, "deploy-cluster-access") }, opts);
  new aws.eks.AccessPolicyAssociation(
    `${prefix}-deploy-cluster-admin`,
    { clusterName: args.cluster.name, principalArn: clusterRole.arn, policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: "cluster" } },
    { ...opts, dependsOn: [entry] },
  );

  // ---- image pushes from the image branch.
  let imagesRole: aws.iam.Role | undefined;
  if (args.repositoryArns.length > 0) {
    imagesRole = githubRole("pushImages", branchSubject(d.repository, d.branch), `push ${ctx.env.name}'s images from ${d.repository}@${d.branch}`);
    new aws.iam.RolePolicy(
      `${prefix}-push-images`,
      {
        role: imagesRole.name,
        policy: policyDocument([
          { Sid: "Login", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
          {
            Sid: "PushThisEnvironment",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages"],
            Resource: args.repositoryArns,
          },
        ]),
      },
      opts,
    );
  }

  const previewRole = previewAccess(ctx, githubRole("preview", pullRequestSubject(d.repository), `pulumi preview of ${AWS_PROJECT}/${ctx.env.name} on pull requests of ${d.repository} (read-only)`));
  const frontendRole = githubRole("deployFrontend", environmentSubject(d.frontendRepository, ctx.env.name), `deploy ${ctx.env.name}'s frontend from ${d.frontendRepository} (${ctx.env.name} environment)`);
  new aws.iam.RolePolicy(`${prefix}-deploy-frontend`, { role: frontendRole.name, policy: frontendDeployPolicy(args.frontend) }, opts);

  const runner = d.runner === "codebuild" ? deployRunner(ctx, args) : undefined;
  return {
    roles: { aws: awsRole.arn, cluster: clusterRole.arn, ...(imagesRole ? { images: imagesRole.arn } : {}), preview: previewRole.arn, frontend: frontendRole.arn },
    ...(runner ? { runner } : {}),
  };
}

/**
 * The preview role's permissions: ReadOnlyAccess for whatever the program reads (its data sources,
 * a `--refresh`), this stack's state (and on a standby its primary's, which the program reads through
 * a StackReference) and the secrets key to decrypt the stack's config. Any branch of the repository
 * can run code as this role, so explicit denies fence ReadOnlyAccess's data-plane reads: no object
 * outside that state (database dumps, product images, the frontend), no secret values, no logs. The
 * state itself holds the stack's secrets, encrypted with the key this role may use: that is the
 * price of a preview, and why forks get no token and nothing else is readable.
 */
function previewAccess(ctx: PlatformContext, role: aws.iam.Role): aws.iam.Role {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const d = cfg.deploy;
  const bucket = `arn:aws:s3:::${d.stateBucket}`;
  const stacks = [ctx.env.name, ...(ctx.env.primary !== undefined ? [ctx.env.primary] : [])];
  const stateObjects = [`${bucket}/.pulumi/meta.yaml`, ...stacks.map((s) => `${bucket}/.pulumi/stacks/${AWS_PROJECT}/${s}.json*`)];
  new aws.iam.RolePolicyAttachment(`${prefix}-preview-ReadOnlyAccess`, { role: role.name, policyArn: READ_ONLY_POLICY }, opts);
  new aws.iam.RolePolicy(
    `${prefix}-preview`,
    {
      role: role.name,
      policy: policyDocument([
        { Sid: "ReadStackState", Action: ["s3:GetObject"], Resource: stateObjects },
        {
          Sid: "ListStackState",
          Action: ["s3:ListBucket"],
          Resource: [bucket],
          Condition: { StringLike: { "s3:prefix": [".pulumi/", `.pulumi/stacks/${AWS_PROJECT}/*`, ...stacks.map((s) => `.pulumi/locks/organization/${AWS_PROJECT}/${s}/*`)] } },
        },
        { Sid: "StackSecrets", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: "*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": d.secretsKeyAlias } } },
        { Sid: "NoObjectOutsideTheState", Effect: "Deny", Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent"], NotResource: stateObjects },
        { Sid: "NoDataReads", Effect: "Deny", Action: [...PREVIEW_DENIED_READS], Resource: "*" },
      ]),
    },
    opts,
  );
  return role;
}

/** Data-plane reads ReadOnlyAccess includes that a preview never needs: secret values, log contents. */
export const PREVIEW_DENIED_READS = [
  "secretsmanager:GetSecretValue",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "logs:GetLogEvents",
  "logs:FilterLogEvents",
  "logs:StartQuery",
  "logs:StartLiveTail",
  "rds:DownloadDBLogFilePortion",
  "rds:DownloadCompleteDBLogFile",
] as const;

/** Exactly what deploy-frontend.yml does: sync the bucket, invalidate the distribution, report the outcome. */
function frontendDeployPolicy(frontend: DeployArgs["frontend"]): pulumi.Output<string> {
  return policyDocument([
    { Sid: "FrontendObjects", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: [frontend.bucketArn.apply((a) => `${a}/*`)] },
    { Sid: "ListFrontendBucket", Action: ["s3:ListBucket"], Resource: [frontend.bucketArn] },
    { Sid: "Invalidate", Action: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"], Resource: [frontend.distributionArn] },
    // PutMetricData has no resource type: the namespace condition is its only scope.
    { Sid: "DeploymentOutcome", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": FRONTEND_DEPLOY_SIGNAL.namespace } } },
  ]);
}

/** The CodeBuild-hosted GitHub Actions runner in the private subnets. */
function deployRunner(ctx: PlatformContext, args: DeployArgs): { project: pulumi.Output<string>; label: string } {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const projectName = runnerProjectName(prefix);
  const connection = aws.codestarconnections.getConnectionOutput({ name: cfg.deploy.githubConnection }, opts);

  const sg = new aws.ec2.SecurityGroup(`${prefix}-deploy-runner`, { vpcId: args.network.vpcId, description: "Deploy runner: HTTPS out only (EKS API, AWS APIs, GitHub, registries)", tags: tags(ctx, "deploy-runner") }, opts);
  new aws.vpc.SecurityGroupEgressRule(`${prefix}-deploy-runner-https`, { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS", tags: tags(ctx, "deploy-runner-https") }, opts);
  new aws.vpc.SecurityGroupEgressRule(`${prefix}-deploy-runner-dns`, { securityGroupId: sg.id, ipProtocol: "udp", fromPort: 53, toPort: 53, cidrIpv4: cfg.network.cidr, description: "VPC DNS", tags: tags(ctx, "deploy-runner-dns") }, opts);
  // The EKS API's private endpoint uses the cluster security group.
  new aws.vpc.SecurityGroupIngressRule(
    `${prefix}-eks-api-from-deploy-runner`,
    { securityGroupId: args.cluster.nodeSecurityGroupId, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: sg.id, description: "Kubernetes API from the deploy runner", tags: tags(ctx, "eks-api-from-deploy-runner") },
    opts,
  );

  const logs = new aws.cloudwatch.LogGroup(`${prefix}-deploy-runner`, { name: `/aws/codebuild/${projectName}`, retentionInDays: logRetentionDays(ctx), tags: tags(ctx, "deploy-runner-logs") }, opts);
  const role = new aws.iam.Role(
    `${prefix}-deploy-runner`,
    { assumeRolePolicy: trustPolicy([{ Principal: { Service: "codebuild.amazonaws.com" }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } } }]), tags: tags(ctx, "deploy-runner-role") },
    opts,
  );
  new aws.iam.RolePolicy(
    `${prefix}-deploy-runner`,
    {
      role: role.name,
      policy: policyDocument([
        { Sid: "Logs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logs.arn, logs.arn.apply((a) => `${a}:*`)] },
        // CodeBuild in a VPC (AWS CodeBuild User Guide, "Allow CodeBuild access to AWS services required to create a VPC network interface").
        { Sid: "VpcNetworkInterfaces", Action: ["ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"], Resource: "*" },
        {
          Sid: "NetworkInterfacePermission",
          Action: ["ec2:CreateNetworkInterfacePermission"],
          Resource: [pulumi.interpolate`arn:aws:ec2:${cfg.region}:${ctx.accountId}:network-interface/*`],
          Condition: { StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" }, ArnEquals: { "ec2:Subnet": args.network.privateSubnetIds.map((id) => pulumi.interpolate`arn:aws:ec2:${cfg.region}:${ctx.accountId}:subnet/${id}`) } },
        },
        { Sid: "GitHubConnection", Action: ["codeconnections:GetConnectionToken", "codeconnections:GetConnection", "codeconnections:UseConnection", "codestar-connections:GetConnectionToken", "codestar-connections:GetConnection", "codestar-connections:UseConnection"], Resource: [connection.arn] },
      ]),
    },
    opts,
  );
  const project = new aws.codebuild.Project(
    `${prefix}-deploy-runner`,
    {
      name: projectName,
      description: `GitHub Actions runner for ${cfg.deploy.repository} in ${prefix}'s private subnets (the cluster stack's deploys)`,
      serviceRole: role.arn,
      source: { type: "GITHUB", location: `https://github.com/${cfg.deploy.repository}.git`, auth: { type: "CODECONNECTIONS", resource: connection.arn } },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_MEDIUM", image: RUNNER_IMAGE, imagePullCredentialsType: "CODEBUILD" },
      vpcConfig: { vpcId: args.network.vpcId, subnets: args.network.privateSubnetIds, securityGroupIds: [sg.id] },
      logsConfig: { cloudwatchLogs: { groupName: logs.name, status: "ENABLED" } },
      buildTimeout: 120,
      tags: tags(ctx, "deploy-runner"),
    },
    opts,
  );
  new aws.codebuild.Webhook(`${prefix}-deploy-runner`, { projectName: project.name, buildType: "BUILD", filterGroups: [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }] }, opts);
  return { project: project.name, label: runnerLabel(prefix) };
}
