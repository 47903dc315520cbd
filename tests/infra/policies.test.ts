import { describe, expect, it } from "vitest";
import {
  bucketsPrivate,
  databaseBackups,
  databasesEncrypted,
  databasesNotPublic,
  noOpenSecurityGroups,
  podsNonRootWithLimits,
  prodDeletionProtection,
} from "../../infra/policies/rules.js";
import type { Policy, PolicyResource } from "../../infra/policies/rules.js";
import {
  dumpStreamsToS3,
  eksControlPlaneLogs,
  eksEndpointRestricted,
  imagesFromRealRegistry,
  networkPoliciesEnforced,
  nlbTlsPolicy,
  opsJobsRunCommittedCommands,
  podsDeclareMetricsPort,
  quantityBytes,
  standbyDatabaseFollowsPrimary,
} from "../../infra/policies/rules.js";
import {
  backupFailuresReachOnCall,
  backupLifecycleSupported,
  backupVaultsLocked,
  cloudfrontOnOwnDomain,
  clusterDeployPath,
  cniPolicyOnIrsa,
  databaseRolePerComponent,
  dumpBucketReplicated,
  githubOidcTrustScoped,
  irsaTrustMatchesServiceAccount,
  loadBalancerControllerPolicy,
  nodesRequireImdsv2,
  publicServicesAppPortOnly,
  rdsRestoreLeastPrivilege,
  replicaLagScraped,
  s3AccessLogging,
  statementsOf,
  vpcFlowLogs,
} from "../../infra/policies/stack-rules.js";
import type { StackPolicy } from "../../infra/policies/stack-rules.js";
import { LBC_IAM_POLICY } from "../../infra/lbc-iam-policy.js";
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, READ_ONLY_POLICY } from "../../infra/settings.js";
import { OPS_COMMANDS } from "../../ops/commands.js";


const rds = (args: Record<string, unknown>): PolicyResource => ({
  type: "aws:rds/instance:Instance",
  name: "db",
  args: { storageEncrypted: true, publiclyAccessible: false, backupRetentionPeriod: 30, deletionProtection: true, tags: { environment: "prod" }, ...args },
});

const pod = (container: Record<string, unknown>, podSecurity: Record<string, unknown> = { runAsNonRoot: true }): PolicyResource => ({
  type: "kubernetes:apps/v1:Deployment",
  name: "web",
  args: { kind: "Deployment", spec: { template: { spec: { securityContext: podSecurity, containers: [{ name: "c", resources: { limits: { cpu: "1", memory: "1Gi" } }, ...container }] } } } },
});

const cases: [Policy, PolicyResource, PolicyResource][] = [
  [databasesEncrypted, rds({}), rds({ storageEncrypted: false })],
  [databasesNotPublic, rds({}), rds({ publiclyAccessible: true })],
  [databasesNotPublic, { type: "aws:mq/broker:Broker", name: "mq", args: { publiclyAccessible: false } }, { type: "aws:mq/broker:Broker", name: "mq", args: { publiclyAccessible: true } }],
  [databaseBackups, rds({ backupRetentionPeriod: 35 }), rds({ backupRetentionPeriod: 7 })],
  [
    databaseBackups,
    { type: "aws:backup/plan:Plan", name: "plan", args: { rules: [{ ruleName: "weekly", lifecycle: { coldStorageAfter: 90, deleteAfter: 365 } }] } },
    { type: "aws:backup/plan:Plan", name: "plan", args: { rules: [{ ruleName: "weekly", lifecycle: { coldStorageAfter: 90, deleteAfter: 120 } }] } },
  ],
  [
    bucketsPrivate,
    { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "b", args: { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true } },
    { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "b", args: { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true } },
  ],
  [bucketsPrivate, { type: "aws:s3/bucket:Bucket", name: "b", args: {} }, { type: "aws:s3/bucket:Bucket", name: "b", args: { acl: "public-read" } }],
  [
    bucketsPrivate,
    { type: "aws:s3/bucketPolicy:BucketPolicy", name: "p", args: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "cloudfront.amazonaws.com" }, Action: "s3:GetObject" }] }) } },
    { type: "aws:s3/bucketPolicy:BucketPolicy", name: "p", args: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject" }] }) } },
  ],
  [
    noOpenSecurityGroups,
    { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "lb", args: { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", tags: { purpose: "load-balancer" } } },
    { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "ssh", args: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" } },
  ],
  [
    noOpenSecurityGroups,
    { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "db", args: { ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "sg-1" } },
    { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "db", args: { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" } }, // 443 but not the LB's
  ],
  [
    noOpenSecurityGroups,
    { type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", args: { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/16"] }] } },
    { type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", args: { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, ipv6CidrBlocks: ["::/0"] }] } },
  ],
  [podsNonRootWithLimits, pod({}), pod({}, {})],
  [podsNonRootWithLimits, pod({}), pod({ resources: { limits: { cpu: "1" } } })],
  [podsNonRootWithLimits, pod({ securityContext: { runAsNonRoot: true } }, {}), pod({ securityContext: { runAsNonRoot: false } })],
  [prodDeletionProtection, rds({}), rds({ deletionProtection: false })],
];

describe("policies", () => {
  it.each(cases.map(([p, ok, bad], i) => [`${p.name} #${i}`, p, ok, bad] as const))("%s: passes the compliant resource, flags the violating one", (_label, policy, ok, bad) => {
    expect(policy.validate(ok)).toEqual([]);
    expect(policy.validate(bad).length).toBeGreaterThan(0);
  });

  it("leaves non-prod databases without deletion protection alone", () => {
    expect(prodDeletionProtection.validate(rds({ deletionProtection: false, tags: { environment: "dev" } }))).toEqual([]);
  });

  it("does not require backups on a read replica", () => {
    expect(databaseBackups.validate(rds({ replicateSourceDb: "db", backupRetentionPeriod: 0 }))).toEqual([]);
  });

  it("finds the pod spec of a CronJob and an Argo Rollout", () => {
    const cron: PolicyResource = { type: "kubernetes:batch/v1:CronJob", name: "cron", args: { kind: "CronJob", spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c" }] } } } } } } };
    const rollout: PolicyResource = { type: "kubernetes:argoproj.io/v1alpha1:Rollout", name: "api", args: { kind: "Rollout", spec: { template: { spec: { containers: [{ name: "c" }] } } } } };
    expect(podsNonRootWithLimits.validate(cron).join()).toMatch(/non-root.*cpu limit/s);
    expect(podsNonRootWithLimits.validate(rollout).length).toBe(3);
  });
});

// ---- issue 18 and 17: resource policies --------------------------------------------------------

const res = (type: string, name: string, args: Record<string, unknown>, extra: Partial<PolicyResource> = {}): PolicyResource => ({ type, name, args, ...extra });
const cluster = (vpcConfig: Record<string, unknown>, environment = "dev", logs = ["api", "audit", "authenticator", "controllerManager", "scheduler"]) =>
  res("aws:eks/cluster:Cluster", "eks", { name: "eks", vpcConfig, enabledClusterLogTypes: logs, tags: { environment } });
const workload = (kind: string, containers: Record<string, unknown>[], volumes: unknown[] = [], name = "w"): PolicyResource =>
  res(`kubernetes:apps/v1:${kind}`, name, {
    kind,
    metadata: { name, namespace: "ns", labels: { "app.kubernetes.io/component": name } },
    spec: kind === "CronJob" ? { jobTemplate: { spec: { template: { spec: { containers, volumes } } } } } : { template: { metadata: { labels: { app: name } }, spec: { containers, volumes } } },
  });
const dumpCron = (command: readonly string[], env: string[], sizeLimit: string) =>
  res("kubernetes:batch/v1:CronJob", "db-backup", {
    kind: "CronJob",
    metadata: { name: "db-backup" },
    spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dev/product-ops:1", command, env: env.map((n) => ({ name: n, value: n === "DUMP_PREFIX" ? "pg_dump/" : "x" })) }], volumes: [{ name: "tmp", emptyDir: { sizeLimit } }] } } } } },
  });
const appContainer = (env: Record<string, string>, ports: { name: string; containerPort: number }[]) => ({ name: "app", image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dev/product:1", env: Object.entries(env).map(([name, value]) => ({ name, value })), ports });
const lbService = (annotations: Record<string, string>) => res("kubernetes:core/v1:Service", "edge", { kind: "Service", metadata: { name: "edge", annotations }, spec: { type: "LoadBalancer" } });

const resourceCases: [Policy, PolicyResource, PolicyResource][] = [
  [eksEndpointRestricted, cluster({ endpointPublicAccess: false }, "prod"), cluster({ endpointPublicAccess: true }, "dev")],
  [eksEndpointRestricted, cluster({ endpointPublicAccess: true, publicAccessCidrs: ["198.51.100.0/24"] }), cluster({ endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] })],
  [eksEndpointRestricted, cluster({ endpointPublicAccess: false }, "prod"), cluster({ endpointPublicAccess: true, publicAccessCidrs: ["198.51.100.0/24"] }, "prod")],
  [eksControlPlaneLogs, cluster({ endpointPublicAccess: false }), cluster({ endpointPublicAccess: false }, "dev", ["api", "audit", "authenticator"])],
  [
    networkPoliciesEnforced,
    res("aws:eks/addon:Addon", "cni", { addonName: "vpc-cni", configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }) }),
    res("aws:eks/addon:Addon", "cni", { addonName: "vpc-cni" }),
  ],
  [
    imagesFromRealRegistry,
    workload("Deployment", [{ name: "c", image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dev/product:1.2" }]),
    workload("Deployment", [{ name: "c", image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/product:1.2" }]),
  ],
  [
    opsJobsRunCommittedCommands,
    workload("CronJob", [{ name: "c", image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dev/product-ops:1", command: [...OPS_COMMANDS.digest] }]),
    workload("CronJob", [{ name: "c", image: "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dev/product-ops:1", command: ["/scripts/db-backup.sh"] }], [{ name: "scripts", configMap: { name: "ops-scripts" } }]),
  ],
  [dumpStreamsToS3, dumpCron(OPS_COMMANDS.dbBackup, ["DATABASE_URL", "DUMP_BUCKET", "DUMP_PREFIX", "AWS_REGION"], "64Mi"), dumpCron(OPS_COMMANDS.dbBackup, ["DATABASE_URL", "DUMP_BUCKET", "DUMP_PREFIX", "AWS_REGION"], "256Mi")],
  [dumpStreamsToS3, dumpCron(OPS_COMMANDS.dbBackup, ["DATABASE_URL", "DUMP_BUCKET", "DUMP_PREFIX", "AWS_REGION"], "64Mi"), dumpCron(["/scripts/db-backup.sh"], ["DATABASE_URL", "DUMP_BUCKET"], "64Mi")],
  [
    nlbTlsPolicy,
    lbService({ "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn", "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
    lbService({ "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn" }),
  ],
  [
    podsDeclareMetricsPort,
    workload("Deployment", [appContainer({ ROLES: "api", METRICS_PORT: "9464" }, [{ name: "http", containerPort: 8080 }, { name: "metrics", containerPort: 9464 }])]),
    workload("Deployment", [appContainer({ ROLES: "api" }, [{ name: "http", containerPort: 8080 }, { name: "metrics", containerPort: 8080 }])]),
  ],
  [
    standbyDatabaseFollowsPrimary,
    rds({ replicateSourceDb: "arn:aws:rds:eu-west-1:111122223333:db:prod-postgres", tags: { "dr-role": "standby" } }),
    rds({ restoreToPointInTime: { useLatestRestorableTime: true }, tags: { "dr-role": "standby" } }),
  ],
  [standbyDatabaseFollowsPrimary, rds({ tags: { "dr-role": "standby", "dr-promoted": "true" } }), rds({ tags: { "dr-role": "standby" } })],
];

describe("issue 18 resource policies", () => {
  it.each(resourceCases.map(([p, ok, bad], i) => [`${p.name} #${i}`, p, ok, bad] as const))("%s: passes the compliant resource, flags the violating one", (_label, policy, ok, bad) => {
    expect(policy.validate(ok)).toEqual([]);
    expect(policy.validate(bad).length).toBeGreaterThan(0);
  });

  it("reads Kubernetes quantities", () => {
    expect(quantityBytes("64Mi")).toBe(64 * 2 ** 20);
    expect(quantityBytes("1G")).toBe(1e9);
    expect(quantityBytes("lots")).toBe(Number.POSITIVE_INFINITY);
  });
});

// ---- stack policies ---------------------------------------------------------------------------

const role = (name: string, subject: string | undefined, tags: Record<string, string> = {}) =>
  res("aws:iam/role:Role", name, {
    name,
    assumeRolePolicy: JSON.stringify({
      Statement: [
        subject
          ? { Effect: "Allow", Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringEquals: { "x:sub": subject } } }
          : { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
    tags,
  });
const sa = (ns: string, name: string, roleName: string) =>
  res("kubernetes:core/v1:ServiceAccount", `sa-${name}`, { kind: "ServiceAccount", metadata: { name, namespace: ns, annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::111122223333:role/${roleName}` } } });
const policyOf = (name: string, roleName: string, statements: unknown[], deps: string[] = []) =>
  res("aws:iam/rolePolicy:RolePolicy", name, { role: roleName, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }, { propertyDependencies: { role: [`aws:iam/role:Role::${roleName}`], policy: deps } });
const db = res("aws:rds/instance:Instance", "db", { identifier: "dev-postgres", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/dev-db-key", tags: {} });
const vault = res("aws:backup/vault:Vault", "vault", { tags: { environment: "prod" } });
const plan = (copy: boolean, coldStorageAfter?: number, tagged = true) =>
  res("aws:backup/plan:Plan", "plan", {
    rules: [
      {
        ruleName: "weekly",
        lifecycle: { deleteAfter: 365, ...(coldStorageAfter ? { coldStorageAfter } : {}) },
        ...(copy ? { copyActions: [{ destinationVaultArn: "arn:aws:backup:eu-central-1:1:backup-vault:v", lifecycle: { deleteAfter: 365 } }] } : {}),
        ...(tagged ? { recoveryPointTags: { "storage-class": "warm", "retention-days": "365" } } : {}),
      },
      { ruleName: "daily", lifecycle: { deleteAfter: 30 }, ...(tagged ? { recoveryPointTags: { "storage-class": "warm", "retention-days": "30" } } : {}) },
    ],
  });
const withDeps = (r: PolicyResource, deps: Record<string, string[]>): PolicyResource => ({ ...r, propertyDependencies: deps });
const provider = (name: string, region: string) => res("pulumi:providers:aws", name, { region });
const bucket = (name: string, tags: Record<string, string>, providerName = "aws") => res("aws:s3/bucket:Bucket", name, { tags }, { provider: providerName });

const deployPathOk: PolicyResource[] = [
  cluster({ endpointPublicAccess: false }, "prod"),
  res("aws:ec2/securityGroup:SecurityGroup", "runner-sg", {}),
  withDeps(res("aws:codebuild/project:Project", "runner", { vpcConfig: { subnets: ["s1"], securityGroupIds: ["runner-sg-id"] } }), { vpcConfig: ["aws:ec2/securityGroup:SecurityGroup::runner-sg"] }),
  withDeps(res("aws:codebuild/webhook:Webhook", "hook", { projectName: "runner", filterGroups: [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }] }), { projectName: ["aws:codebuild/project:Project::runner"] }),
  withDeps(res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "api-from-runner", { fromPort: 443, toPort: 443 }), { referencedSecurityGroupId: ["aws:ec2/securityGroup:SecurityGroup::runner-sg"] }),
  withDeps(res("aws:eks/accessEntry:AccessEntry", "entry", { clusterName: "eks" }), { clusterName: ["aws:eks/cluster:Cluster::eks"] }),
  withDeps(res("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "admin", { clusterName: "eks" }), { clusterName: ["aws:eks/cluster:Cluster::eks"] }),
];
const lbcSubject = "system:serviceaccount:kube-system:aws-load-balancer-controller";
const lbcRole = role("dev-irsa-kube-system-aws-load-balancer-controller", lbcSubject);
const vpc = res("aws:ec2/vpc:Vpc", "vpc", {});
const edgeService = (targetPort: string | number) =>
  res("kubernetes:core/v1:Service", "edge", { kind: "Service", metadata: { name: "edge", namespace: "ns" }, spec: { type: "LoadBalancer", selector: { app: "api" }, ports: [{ port: 443, targetPort }] } });
const apiPods = workload("Deployment", [appContainer({ ROLES: "api" }, [{ name: "http", containerPort: 8080 }, { name: "metrics", containerPort: 9464 }])], [], "api");
const dbUser = (name: string, component: string, secret: string) =>
  res("kubernetes:apps/v1:Deployment", name, {
    kind: "Deployment",
    metadata: { name, labels: { "app.kubernetes.io/component": component } },
    spec: { template: { spec: { containers: [{ name: "c", env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: secret, key: "DATABASE_URL" } } }] }] } } },
  });
const cwExporter = (ids: string[]) =>
  res("kubernetes:helm.sh/v3:Release", "cloudwatch-exporter", { chart: "prometheus-cloudwatch-exporter", values: { config: JSON.stringify({ metrics: [{ aws_metric_name: "ReplicaLag", aws_dimension_select: { DBInstanceIdentifier: ids } }] }) } });
const topic = res("aws:sns/topic:Topic", "failures", { kmsMasterKeyId: "arn:key", tags: { environment: "prod" } });
const notifications = (events: string[]) => withDeps(res("aws:backup/vaultNotifications:VaultNotifications", "n", { backupVaultEvents: events }), { snsTopicArn: ["aws:sns/topic:Topic::failures"] });
const subscription = (protocol: string) => withDeps(res("aws:sns/topicSubscription:TopicSubscription", `s-${protocol}`, { protocol }), { topic: ["aws:sns/topic:Topic::failures"] });
const distribution = (viewerCertificate: Record<string, unknown>, aliases: string[] = ["app.example"]) => res("aws:cloudfront/distribution:Distribution", "cdn", { viewerCertificate, aliases, tags: { "dr-role": "primary" } });
const certIn = (providerName: string) => res("aws:acm/certificate:Certificate", "frontend-cert", { domainName: "app.example" }, { provider: providerName });
const aliasRecord = res("aws:route53/record:Record", "frontend-a", { name: "app.example", type: "A", aliases: [{ name: "d.cloudfront.net" }] });

/** A GitHub Actions role with the given trust conditions. */
const ghRole = (name: string, condition: Record<string, Record<string, string>>) =>
  res("aws:iam/role:Role", name, {
    name,
    assumeRolePolicy: JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${GITHUB_OIDC_HOST}` }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
    }),
  });
const ghTrust = (sub: string) => ({ StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE, [`${GITHUB_OIDC_HOST}:sub`]: sub } });
const attach = (roleName: string, policyArn: string) => res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", `${roleName}-${policyArn.split("/").pop()}`, { role: roleName, policyArn });
const previewOk = [
  ghRole("dev-preview", ghTrust("repo:acme/product-platform:pull_request")),
  attach("dev-preview", READ_ONLY_POLICY),
  policyOf("dev-preview-inline", "dev-preview", [
    { Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket", "kms:Decrypt", "kms:DescribeKey"], Resource: "*" },
    { Effect: "Deny", Action: ["s3:GetObject"], NotResource: ["arn:aws:s3:::state/*"] },
  ]),
];

const stackCases: [StackPolicy, PolicyResource[], PolicyResource[]][] = [
  // GitHub roles: one exact subject and the audience ...
  [githubOidcTrustScoped, [ghRole("dev-deploy-aws", ghTrust("repo:acme/product-platform:environment:dev"))], [ghRole("dev-deploy-aws", { StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE } })]],
  [githubOidcTrustScoped, [ghRole("dev-push-images", ghTrust("repo:acme/product-platform:ref:refs/heads/main"))], [ghRole("dev-push-images", ghTrust("repo:acme/product-platform:ref:refs/heads/*"))]],
  [
    githubOidcTrustScoped,
    [ghRole("dev-deploy-frontend", ghTrust("repo:acme/product-frontend:environment:dev"))],
    [ghRole("dev-deploy-frontend", { StringEquals: { [`${GITHUB_OIDC_HOST}:sub`]: "repo:acme/product-frontend:environment:dev" } })],
  ],
  [
    githubOidcTrustScoped,
    [ghRole("dev-deploy-frontend", ghTrust("repo:acme/product-frontend:environment:dev"))],
    [ghRole("dev-deploy-frontend", { ...ghTrust("repo:acme/product-frontend:environment:dev"), StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: "repo:acme/*" } })],
  ],
  // ... and a pull-request role that reads only.
  [githubOidcTrustScoped, previewOk, [...previewOk, policyOf("dev-preview-more", "dev-preview", [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: "*" }])]],
  [githubOidcTrustScoped, previewOk, [...previewOk, attach("dev-preview", "arn:aws:iam::aws:policy/PowerUserAccess")]],
  [clusterDeployPath, deployPathOk, [cluster({ endpointPublicAccess: false }, "prod"), res("kubernetes:core/v1:Namespace", "ns", { kind: "Namespace" })]],
  [clusterDeployPath, deployPathOk, deployPathOk.filter((r) => r.type !== "aws:codebuild/webhook:Webhook")],
  [
    irsaTrustMatchesServiceAccount,
    [role("dev-irsa-ns-scheduler", "system:serviceaccount:ns:scheduler", { "irsa-namespace": "ns", "irsa-service-account": "scheduler" }), sa("ns", "scheduler", "dev-irsa-ns-scheduler")],
    [role("dev-irsa-ns-worker", "system:serviceaccount:ns:worker"), sa("ns", "scheduler", "dev-irsa-ns-worker")],
  ],
  [
    irsaTrustMatchesServiceAccount,
    [role("dev-irsa-ns-api", "system:serviceaccount:ns:api"), sa("ns", "api", "dev-irsa-ns-api")],
    [role("dev-irsa-ns-api", "system:serviceaccount:ns:other", { "irsa-namespace": "ns", "irsa-service-account": "api" }), sa("ns", "api", "dev-irsa-ns-api")],
  ],
  [
    rdsRestoreLeastPrivilege,
    [
      db,
      policyOf("drill", "r", [
        { Effect: "Allow", Action: ["rds:RestoreDBInstanceToPointInTime"], Resource: ["arn:aws:rds:eu-west-1:111122223333:db:dev-postgres", "arn:aws:rds:eu-west-1:111122223333:db:dev-postgres-drill-*"] },
        { Effect: "Allow", Action: ["kms:CreateGrant"], Resource: [db.args["kmsKeyId"]], Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
        { Effect: "Allow", Action: ["kms:DescribeKey"], Resource: [db.args["kmsKeyId"]] },
      ]),
    ],
    [db, policyOf("drill", "r", [{ Effect: "Allow", Action: ["rds:DescribeDBInstances", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource"], Resource: "*" }])],
  ],
  [
    dumpBucketReplicated,
    [
      plan(true),
      provider("aws", "eu-west-1"),
      provider("aws-secondary", "eu-central-1"),
      bucket("dumps", { data: "database-dumps" }),
      bucket("dumps-replica", { data: "database-dumps", "replica-of": "dumps" }, "aws-secondary"),
      withDeps(res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "repl", { rules: [{ status: "Enabled", destination: {} }] }), { bucket: ["aws:s3/bucket:Bucket::dumps"], rules: ["aws:s3/bucket:Bucket::dumps-replica"] }),
    ],
    [plan(true), provider("aws", "eu-west-1"), bucket("dumps", { data: "database-dumps" })],
  ],
  [
    backupVaultsLocked,
    [
      plan(false),
      vault,
      withDeps(res("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "lock", { minRetentionDays: 30, maxRetentionDays: 365, changeableForDays: 3 }), { backupVaultName: ["aws:backup/vault:Vault::vault"] }),
      withDeps(res("aws:backup/vaultPolicy:VaultPolicy", "policy", { policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: { AWS: "*" }, Action: ["backup:DeleteRecoveryPoint"], Resource: "*" }] }) }), { backupVaultName: ["aws:backup/vault:Vault::vault"] }),
    ],
    [
      plan(false),
      vault,
      withDeps(res("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "lock", { minRetentionDays: 30, maxRetentionDays: 365 }), { backupVaultName: ["aws:backup/vault:Vault::vault"] }), // governance in prod
      withDeps(res("aws:backup/vaultPolicy:VaultPolicy", "policy", { policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: { AWS: "*" }, Action: ["backup:DeleteRecoveryPoint"], Resource: "*" }] }) }), { backupVaultName: ["aws:backup/vault:Vault::vault"] }),
    ],
  ],
  [backupVaultsLocked, [plan(false)], [plan(false), vault]],
  [backupFailuresReachOnCall, [topic, notifications(["COPY_JOB_FAILED"]), subscription("email"), subscription("https")], [topic, notifications(["BACKUP_JOB_FAILED", "COPY_JOB_FAILED"]), subscription("email"), subscription("https")]],
  [backupFailuresReachOnCall, [topic, notifications(["COPY_JOB_FAILED"]), subscription("email"), subscription("https")], [topic, notifications(["COPY_JOB_FAILED"]), subscription("email")]],
  [
    backupLifecycleSupported,
    [plan(false), withDeps(res("aws:backup/selection:Selection", "sel", { resources: ["arn:aws:rds:eu-west-1:1:db:dev-postgres"] }), { planId: ["aws:backup/plan:Plan::plan"] })],
    [plan(false, 90), withDeps(res("aws:backup/selection:Selection", "sel", { resources: ["arn:aws:rds:eu-west-1:1:db:dev-postgres"] }), { planId: ["aws:backup/plan:Plan::plan"] })],
  ],
  [backupLifecycleSupported, [plan(false)], [plan(false, undefined, false)]],
  [
    cloudfrontOnOwnDomain,
    [provider("aws-us-east-1", "us-east-1"), certIn("aws-us-east-1"), distribution({ acmCertificateArn: "arn:aws:acm:us-east-1:1:certificate/frontend-cert", sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }), aliasRecord],
    [provider("aws", "eu-west-1"), certIn("aws"), distribution({ acmCertificateArn: "arn:aws:acm:eu-west-1:1:certificate/frontend-cert", sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }), aliasRecord],
  ],
  [
    cloudfrontOnOwnDomain,
    [provider("aws-us-east-1", "us-east-1"), certIn("aws-us-east-1"), distribution({ acmCertificateArn: "arn:aws:acm:us-east-1:1:certificate/frontend-cert", sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }), aliasRecord],
    [distribution({ cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" }, [])],
  ],
  [
    loadBalancerControllerPolicy,
    [lbcRole, res("aws:iam/rolePolicy:RolePolicy", "lbc", { role: lbcRole.args["name"], policy: JSON.stringify(LBC_IAM_POLICY) })],
    [
      lbcRole,
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "lbc-elb", { role: lbcRole.args["name"], policyArn: "arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess" }),
      res("aws:iam/rolePolicy:RolePolicy", "lbc", { role: lbcRole.args["name"], policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:CreateSecurityGroup"], Resource: "*" }] }) }),
    ],
  ],
  [
    cniPolicyOnIrsa,
    [
      role("dev-irsa-kube-system-aws-node", "system:serviceaccount:kube-system:aws-node"),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cni", { role: "dev-irsa-kube-system-aws-node", policyArn: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" }),
      res("aws:eks/addon:Addon", "vpc-cni", { addonName: "vpc-cni", serviceAccountRoleArn: "arn:aws:iam::1:role/dev-irsa-kube-system-aws-node" }),
    ],
    [role("dev-eks-nodes", undefined), res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cni", { role: "dev-eks-nodes", policyArn: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" }), res("aws:eks/addon:Addon", "vpc-cni", { addonName: "vpc-cni" })],
  ],
  [
    nodesRequireImdsv2,
    [
      res("aws:ec2/launchTemplate:LaunchTemplate", "lt", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } }),
      withDeps(res("aws:eks/nodeGroup:NodeGroup", "nodes", { launchTemplate: { id: "lt-id", version: "1" } }), { launchTemplate: ["aws:ec2/launchTemplate:LaunchTemplate::lt"] }),
    ],
    [res("aws:eks/nodeGroup:NodeGroup", "nodes", {})],
  ],
  [nodesRequireImdsv2, [], [res("aws:ec2/launchTemplate:LaunchTemplate", "lt", { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 } }), res("aws:eks/nodeGroup:NodeGroup", "nodes", { launchTemplate: { id: "lt-id" } })]],
  [vpcFlowLogs, [vpc, withDeps(res("aws:ec2/flowLog:FlowLog", "fl", { trafficType: "ALL" }), { vpcId: ["aws:ec2/vpc:Vpc::vpc"] })], [vpc, withDeps(res("aws:ec2/flowLog:FlowLog", "fl", { trafficType: "REJECT" }), { vpcId: ["aws:ec2/vpc:Vpc::vpc"] })]],
  [
    s3AccessLogging,
    [bucket("logs", { purpose: "access-logs" }), bucket("images", {}), withDeps(res("aws:s3/bucketLogging:BucketLogging", "images", {}), { bucket: ["aws:s3/bucket:Bucket::images"], targetBucket: ["aws:s3/bucket:Bucket::logs"] })],
    [bucket("logs", { purpose: "access-logs" }), bucket("images", {})],
  ],
  [
    databaseRolePerComponent,
    [dbUser("api", "api", "db-api"), dbUser("worker-import", "worker", "db-worker"), dbUser("worker-image", "worker", "db-worker")],
    [dbUser("api", "api", "app-secrets"), dbUser("scheduler", "scheduler", "app-secrets")],
  ],
  [publicServicesAppPortOnly, [edgeService("http"), apiPods], [edgeService("metrics"), apiPods]],
  [publicServicesAppPortOnly, [edgeService(8080), apiPods], [edgeService(9464), apiPods]],
  [
    replicaLagScraped,
    [res("aws:rds/instance:Instance", "dr", { identifier: "prod-dr-postgres", replicateSourceDb: "arn:aws:rds:eu-west-1:1:db:prod-postgres" }), cwExporter(["prod-dr-postgres"])],
    [res("aws:rds/instance:Instance", "dr", { identifier: "prod-dr-postgres", replicateSourceDb: "arn:aws:rds:eu-west-1:1:db:prod-postgres" }), cwExporter(["prod-postgres-replica"])],
  ],
];

describe("issue 18 stack policies", () => {
  it.each(stackCases.map(([p, ok, bad], i) => [`${p.name} #${i}`, p, ok, bad] as const))("%s: passes the compliant stack, flags the violating one", (_label, policy, ok, bad) => {
    expect(policy.validateStack(ok)).toEqual([]);
    expect(policy.validateStack(bad).length).toBeGreaterThan(0);
  });

  it("read IAM documents with a single statement, action or resource", () => {
    expect(statementsOf(JSON.stringify({ Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "arn" } }))).toEqual([{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn"] }]);
    expect(statementsOf("not json")).toEqual([]);
  });

  it("names the service account whose role trusts someone else (the scheduler on the worker's role)", () => {
    const messages = irsaTrustMatchesServiceAccount.validateStack([role("dev-irsa-worker", "system:serviceaccount:product-platform:worker"), sa("product-platform", "scheduler", "dev-irsa-worker")]);
    expect(messages.join("\n")).toMatch(/role dev-irsa-worker does not trust system:serviceaccount:product-platform:scheduler/);
  });
});
