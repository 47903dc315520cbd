/**
 * Issue 18 (and the infra sides of issues 11 and 17) over the rendered plans of every environment,
 * both projects: what each point changed, asserted on the resources as `pulumi up` would send them.
 * The policies (infra/policies) guard the same points generically; these tests pin the specifics.
 */
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { ruleGroups } from "../../alerts/rules/index.js";
import { LBC_IAM_POLICY } from "../../infra/lbc-iam-policy.js";
import { IRSA_SERVICE_ACCOUNTS, serviceAccountSubject } from "../../infra/service-accounts.js";
import { CURRENT_VAULT_EVENTS, NLB_TLS_POLICY, OPS_TMP_SIZE_LIMIT } from "../../infra/settings.js";
import { REDACTED } from "../../infra/testing/mocks.js";
import { PREVIEW_DENIED_READS, READ_ONLY_POLICY } from "../../infra/deploy.js";
import { FRONTEND_DEPLOY_SIGNAL } from "../../model/delivery.js";
import { STACKS } from "../../infra/testing/stacks.js";
import type { StackName } from "../../infra/testing/stacks.js";
import { DATABASE_ROLES } from "../../model/database-roles.js";
import { APP_PORT, METRICS_PORT } from "../../model/workloads.js";
import { OPS_COMMANDS } from "../../ops/commands.js";
import { awsRdsReplicaLagMaximum } from "../../services/metrics-exporters.js";
import { THRESHOLDS } from "../../alerts/thresholds.js";
import { replicaFailoverRpoSeconds } from "../../infra/cluster/monitoring.js";
import { metaOf, nameOf, renderedEnvironments } from "./rendered.js";
import type { Any } from "./rendered.js";

const { renderAll, get, ofType, one, k8sKind, resourcesOf } = renderedEnvironments();
beforeAll(() => renderAll(), 120_000);

const writable = (stack: StackName) => get(stack).config.dr.role === "primary" || get(stack).config.dr.promoted === true;
const json = (v: unknown): Any => (typeof v === "string" ? JSON.parse(v) : v);
const podSpec = (r: { args: Record<string, unknown> }): Any => {
  const spec = r.args["spec"] as Any;
  return r.args["kind"] === "CronJob" ? spec.jobTemplate.spec.template.spec : spec.template.spec;
};
const envOf = (c: Any): Record<string, Any> => Object.fromEntries((c.env ?? []).map((e: Any) => [e.name, e.value ?? e.valueFrom]));
const roleNamed = (stack: StackName, suffix: string) => ofType(stack, "aws:iam/role:Role").find((r) => r.name === `${stack}-${suffix}`)!;
const inlinePolicyOf = (stack: StackName, roleName: string): Any => json(ofType(stack, "aws:iam/rolePolicy:RolePolicy").find((p) => p.args["role"] === roleName)!.args["policy"]);

describe.each(STACKS)("stack %s", (stack) => {
  describe("1. the deploy path: an AWS stack, and a cluster stack applied from the runner in the VPC", () => {
    it("splits the resources: no Kubernetes object in the AWS stack, nothing but the API's DNS of AWS in the cluster stack", () => {
      expect(resourcesOf(stack, "platform").filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
      const clusterAws = resourcesOf(stack, "platform-cluster").filter((r) => r.type.startsWith("aws:"));
      expect([...new Set(clusterAws.map((r) => r.type))].sort()).toEqual(writable(stack) ? ["aws:route53/healthCheck:HealthCheck", "aws:route53/record:Record"] : ["aws:route53/healthCheck:HealthCheck"]);
      expect(one(stack, "pulumi:pulumi:StackReference", `${stack}-aws-stack`).args["name"]).toBe(`organization/platform/${stack}`);
    });

    it("runs a CodeBuild-hosted GitHub Actions runner in the private subnets, reachable from nowhere, allowed to the EKS API", () => {
      const project = one(stack, "aws:codebuild/project:Project");
      expect(project.args).toMatchObject({
        name: `${stack}-deploy`,
        source: { type: "GITHUB", location: "https://github.com/acme/product-platform.git", auth: { type: "CODECONNECTIONS", resource: expect.stringMatching(/:connection\/platform-github$/) } },
        vpcConfig: { subnets: ofType(stack, "aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-private-")).map((s) => `${s.name}-id`) },
      });
      expect(one(stack, "aws:codebuild/webhook:Webhook").args).toMatchObject({ projectName: `${stack}-deploy`, buildType: "BUILD", filterGroups: [{ filters: [{ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" }] }] });
      expect(get(stack).aws.outputs["deployRunner"]).toEqual({ project: `${stack}-deploy`, label: `codebuild-${stack}-deploy-\${{ github.run_id }}-\${{ github.run_attempt }}` });
      const ingress = ofType(stack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.name === `${stack}-eks-api-from-deploy-runner`);
      expect(ingress.map((r) => r.args)).toEqual([expect.objectContaining({ fromPort: 443, toPort: 443, referencedSecurityGroupId: `${stack}-deploy-runner-id`, securityGroupId: `sg-${stack}-eks-cluster` })]);
      expect(ofType(stack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.args["securityGroupId"] === `${stack}-deploy-runner-id`)).toEqual([]);
      // The runner's own role runs builds and nothing else.
      const runnerPolicy = inlinePolicyOf(stack, `${stack}-deploy-runner`).Statement.flatMap((s: Any) => s.Action);
      expect(runnerPolicy.filter((a: string) => /^(eks|s3|kms|iam|rds):/.test(a))).toEqual([]);
    });

    it("lets GitHub Actions in through OIDC only: five roles per environment, each trusting its repository and its environment, branch or pull requests", () => {
      expect(ofType(stack, "aws:iam/user:User")).toEqual([]);
      expect(ofType(stack, "aws:iam/accessKey:AccessKey")).toEqual([]);
      const providers = ofType(stack, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").map((r) => r.args["url"]);
      expect(providers.includes("https://token.actions.githubusercontent.com")).toBe(get(stack).config.deploy.oidcProvider === "create");
      const roles = get(stack).aws.outputs["githubDeployRoles"] as Any;
      expect(Object.keys(roles).sort()).toEqual(["aws", "cluster", "frontend", "images", "preview"]);
      const trust = (suffix: string) => json(roleNamed(stack, suffix).args["assumeRolePolicy"]).Statement[0];
      for (const [suffix, sub] of [
        ["deploy-aws", `repo:acme/product-platform:environment:${stack}`],
        ["deploy-cluster", `repo:acme/product-platform:environment:${stack}`],
        ["push-images", "repo:acme/product-platform:ref:refs/heads/main"],
        ["preview", "repo:acme/product-platform:pull_request"],
        ["deploy-frontend", `repo:acme/product-frontend:environment:${stack}`],
      ] as const) {
        const t = trust(suffix);
        expect(t.Principal.Federated).toMatch(/:oidc-provider\/token\.actions\.githubusercontent\.com$/);
        expect(t.Condition.StringEquals).toEqual({ "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": sub });
      }
    });

    it("gives only the cluster deploy role access to the cluster, and it reads only its AWS stack's state and writes its own", () => {
      expect(one(stack, "aws:eks/cluster:Cluster").args["accessConfig"]).toEqual({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
      const clusterRoleArn = `arn:aws:iam::111122223333:role/${stack}-deploy-cluster`;
      expect(one(stack, "aws:eks/accessEntry:AccessEntry").args).toMatchObject({ principalArn: clusterRoleArn, type: "STANDARD" });
      expect(one(stack, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").args).toMatchObject({
        principalArn: clusterRoleArn,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      });
      const statements = inlinePolicyOf(stack, `${stack}-deploy-cluster`).Statement as Any[];
      const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
      expect(bySid("ReadAwsStackOutputs").Resource).toEqual([`arn:aws:s3:::acme-platform-pulumi-state/.pulumi/stacks/platform/${stack}.json*`, "arn:aws:s3:::acme-platform-pulumi-state/.pulumi/meta.yaml"]);
      expect(bySid("ReadAwsStackOutputs").Action).toEqual(["s3:GetObject"]);
      for (const r of bySid("OwnStackState").Resource as string[]) expect(r).toMatch(new RegExp(`platform-cluster/${stack}[./]`));
      expect(bySid("ApiFailoverRecord").Condition).toEqual({ "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [get(stack).config.dns.apiHostname] } });
      expect(bySid("StackSecrets").Condition).toEqual({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/pulumi-secrets" } });
    });

    it("gives the preview role read-only access: no write, no object beyond its stack's state, no secret values or logs, no cluster access", () => {
      const preview = `${stack}-preview`;
      const attached = ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.args["role"] === preview).map((a) => a.args["policyArn"]);
      expect(attached).toEqual([READ_ONLY_POLICY]);
      const statements = inlinePolicyOf(stack, preview).Statement as Any[];
      const allowed = statements.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action as string[]);
      expect(allowed.sort()).toEqual(["kms:Decrypt", "kms:DescribeKey", "s3:GetObject", "s3:ListBucket"]);
      const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
      const state = "arn:aws:s3:::acme-platform-pulumi-state/.pulumi";
      const stacks = [stack, ...(get(stack).env.primary ? [get(stack).env.primary!] : [])];
      expect(bySid("ReadStackState").Resource).toEqual([`${state}/meta.yaml`, ...stacks.map((s) => `${state}/stacks/platform/${s}.json*`)]);
      expect(bySid("NoObjectOutsideTheState")).toMatchObject({ Effect: "Deny", NotResource: bySid("ReadStackState").Resource });
      expect(bySid("NoObjectOutsideTheState").Action).toContain("s3:GetObject");
      expect(bySid("NoDataReads")).toMatchObject({ Effect: "Deny", Action: [...PREVIEW_DENIED_READS], Resource: "*" });
      expect(bySid("StackSecrets").Condition).toEqual({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": get(stack).config.deploy.secretsKeyAlias } });
      const principals = ofType(stack, "aws:eks/accessEntry:AccessEntry").map((e) => String(e.args["principalArn"]));
      expect(principals.some((p) => p.endsWith(`:role/${preview}`))).toBe(false);
    });

    it("lets the frontend deploy role do exactly what deploy-frontend.yml does, on this environment's site only", () => {
      const statements = inlinePolicyOf(stack, `${stack}-deploy-frontend`).Statement as Any[];
      const outputs = get(stack).aws.outputs;
      const bucketArn = `arn:aws:s3:::${String(outputs["frontendBucket"])}`;
      expect(statements.map((s) => ({ Effect: s.Effect, Action: s.Action, Resource: s.Resource, Condition: s.Condition }))).toEqual([
        { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: [`${bucketArn}/*`], Condition: undefined },
        { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn], Condition: undefined },
        { Effect: "Allow", Action: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"], Resource: [expect.stringMatching(new RegExp(`^arn:aws:cloudfront:.*:distribution/${one(stack, "aws:cloudfront/distribution:Distribution").name}$`))], Condition: undefined },
        { Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": FRONTEND_DEPLOY_SIGNAL.namespace } } },
      ]);
      expect(get(stack).aws.outputs["frontendDeployRole"]).toBe(`arn:aws:iam::111122223333:role/${stack}-deploy-frontend`);
    });

    it("exports everything the cluster stack reads, the secret outputs as secrets", () => {
      const outputs = get(stack).aws.outputs;
      for (const key of ["clusterName", "clusterEndpoint", "clusterCertificateAuthority", "oidcProviderArn", "irsaRoleArns", "databaseUrls", "databaseMasterUrl", "imagesBucket", "dumpsBucket", "brokerAmqpUrl", "apiCertificateArn", "imageRepository"]) {
        expect(outputs[key], key).toBeDefined();
      }
      // What the cluster stack made of the secret outputs stays secret in its plan.
      const secrets = k8sKind(stack, "Secret");
      for (const s of secrets) for (const v of Object.values((s.args["stringData"] ?? {}) as object)) expect(v, `${s.name}`).toBe(REDACTED);
    });
  });

  it("2. pulls the images from this stack's own ECR repositories, in the caller's account", () => {
    const repos = ofType(stack, "aws:ecr/repository:Repository").map((r) => r.args);
    expect(repos.map((r) => r["name"]).sort()).toEqual([`${stack}/product`, `${stack}/product-ops`]);
    for (const r of repos) expect(r).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    const repository = get(stack).aws.outputs["imageRepository"];
    expect(repository).toBe(`111122223333.dkr.ecr.${get(stack).config.region}.amazonaws.com/${stack}/product`);
    const tag = get(stack).config.app.imageTag;
    const images = [...k8sKind(stack, "Deployment"), ...k8sKind(stack, "Rollout"), ...k8sKind(stack, "Job"), ...k8sKind(stack, "CronJob")].flatMap((r) => podSpec(r).containers.map((c: Any) => c.image as string));
    expect(new Set(images)).toEqual(new Set([`${repository}:${tag}`, `${repository}-ops:${tag}`]));
    expect(JSON.stringify(get(stack).resources)).not.toContain("123456789012");
  });

  it("3. gives each service account its own IRSA role, which trusts exactly that service account", () => {
    const arns = get(stack).aws.outputs["irsaRoleArns"] as Record<string, string>;
    expect(new Set(Object.values(arns)).size).toBe(Object.keys(arns).length);
    for (const sa of Object.values(IRSA_SERVICE_ACCOUNTS)) {
      const arn = arns[`${sa.namespace}/${sa.name}`]!;
      const role = ofType(stack, "aws:iam/role:Role").find((r) => arn.endsWith(`/${String(r.args["name"])}`))!;
      expect(json(role.args["assumeRolePolicy"]).Statement.map((s: Any) => Object.entries(s.Condition.StringEquals).find(([k]) => k.endsWith(":sub"))![1])).toEqual([serviceAccountSubject(sa)]);
    }
    const annotated = k8sKind(stack, "ServiceAccount").filter((s) => metaOf(s).annotations?.["eks.amazonaws.com/role-arn"]);
    for (const s of annotated) expect(metaOf(s).annotations["eks.amazonaws.com/role-arn"]).toBe(arns[`${metaOf(s).namespace}/${nameOf(s)}`]);
    // The old defect: the scheduler's service account carried the worker's role. Now it has its own
    // (the image GC lists and deletes images), and the plain workers have none.
    const scheduler = k8sKind(stack, "ServiceAccount").find((s) => nameOf(s) === "scheduler")!;
    expect(metaOf(scheduler).annotations["eks.amazonaws.com/role-arn"]).toBe(arns["product-platform/scheduler"]);
    const worker = k8sKind(stack, "ServiceAccount").find((s) => nameOf(s) === "worker")!;
    expect(metaOf(worker).annotations).toBeUndefined();
    const schedulerPolicy = inlinePolicyOf(stack, `${stack}-irsa-product-platform-scheduler`).Statement as Any[];
    expect(schedulerPolicy.flatMap((x) => x.Action).sort()).toEqual(["s3:DeleteObject", "s3:ListBucket"]);
  });

  it("4. enforces the NetworkPolicies: the vpc-cni add-on runs the network policy agent, on its own IRSA role", () => {
    const cni = one(stack, "aws:eks/addon:Addon", `${stack}-addon-vpc-cni`).args;
    expect(json(cni["configurationValues"])).toEqual({ enableNetworkPolicy: "true" });
    expect(cni["serviceAccountRoleArn"]).toBe(`arn:aws:iam::111122223333:role/${stack}-irsa-kube-system-aws-node`);
    expect(k8sKind(stack, "NetworkPolicy").length).toBeGreaterThan(6);
  });

  it("6. lets the restore drill restore only into its own instances, with the database's key", () => {
    const statements = inlinePolicyOf(stack, `${stack}-irsa-product-platform-restore-drill`).Statement as Any[];
    const key = one(stack, "aws:rds/instance:Instance", `${stack}-postgres`).args["kmsKeyId"];
    const sid = (s: string) => statements.find((x) => x.Sid === s);
    expect(sid("DatabaseKeyGrant")).toMatchObject({ Action: ["kms:CreateGrant"], Resource: [key], Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } });
    expect(sid("DatabaseKeyDescribe")).toMatchObject({ Action: ["kms:DescribeKey"], Resource: [key] });
    for (const s of statements.filter((x) => x.Action.some((a: string) => a.startsWith("rds:")))) expect(s.Resource, s.Sid).not.toContain("*");
    expect(sid("DeleteDrillInstance").Resource).toEqual([`arn:aws:rds:${get(stack).config.region}:111122223333:db:${stack}-postgres-drill-*`]);
  });

  it("7. streams the dump to S3 (no large scratch volume) and replicates the dumps to the second region where backups are copied", () => {
    if (writable(stack)) {
      const cron = k8sKind(stack, "CronJob").find((c) => nameOf(c) === "db-backup")!;
      const pod = podSpec(cron);
      expect(pod.containers[0].command).toEqual([...OPS_COMMANDS.dbBackup]);
      expect(Object.keys(envOf(pod.containers[0])).sort()).toEqual(["AWS_REGION", "DATABASE_URL", "DUMP_BUCKET", "DUMP_PREFIX"]);
      expect(envOf(pod.containers[0])).toMatchObject({ DUMP_BUCKET: get(stack).aws.outputs["dumpsBucket"], DUMP_PREFIX: "pg_dump/", AWS_REGION: get(stack).config.region });
      expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: OPS_TMP_SIZE_LIMIT } }]);
    }
    const replication = ofType(stack, "aws:s3/bucketReplicationConfig:BucketReplicationConfig");
    expect(replication.length).toBe(get(stack).config.backup.copyToSecondaryRegion ? 1 : 0);
    for (const r of replication) {
      const replica = one(stack, "aws:s3/bucket:Bucket", `${stack}-db-dumps-${get(stack).config.secondaryRegion}`);
      expect(replica.provider).toBe(`${stack}-aws-secondary`);
      expect((r.args["rules"] as Any)[0]).toMatchObject({ status: "Enabled", sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } }, destination: { encryptionConfiguration: { replicaKmsKeyId: expect.stringContaining(`:${get(stack).config.secondaryRegion}:`) } } });
    }
  });

  it("8. locks every vault (compliance in prod, governance elsewhere) with the plan's retention, and denies deleting recovery points", () => {
    const vaults = ofType(stack, "aws:backup/vault:Vault");
    const locks = ofType(stack, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
    const policies = ofType(stack, "aws:backup/vaultPolicy:VaultPolicy");
    expect(locks.length).toBe(vaults.length);
    expect(policies.length).toBe(vaults.length);
    for (const lock of locks) {
      expect(lock.args).toMatchObject({ minRetentionDays: 30, maxRetentionDays: 365 });
      expect(lock.args["changeableForDays"]).toBe(get(stack).env.tier === "prod" ? 3 : undefined);
    }
    for (const p of policies) expect(json(p.args["policy"]).Statement).toContainEqual(expect.objectContaining({ Effect: "Deny", Action: expect.arrayContaining(["backup:DeleteRecoveryPoint"]) }));
  });

  it("9. sends backup failures, on current events only, to an encrypted topic that reaches on-call", () => {
    const topic = one(stack, "aws:sns/topic:Topic");
    expect(topic.args["kmsMasterKeyId"]).toMatch(/:key\//);
    const subs = ofType(stack, "aws:sns/topicSubscription:TopicSubscription").map((s) => s.args);
    expect(subs).toContainEqual(expect.objectContaining({ protocol: "email", endpoint: get(stack).env.monitoring.digestEmail }));
    const pages = get(stack).env.monitoring.pages === "pagerduty";
    expect(subs.filter((s) => s["protocol"] === "https")).toEqual(pages ? [expect.objectContaining({ endpoint: REDACTED, endpointAutoConfirms: true })] : []);
    for (const n of ofType(stack, "aws:backup/vaultNotifications:VaultNotifications")) for (const e of n.args["backupVaultEvents"] as string[]) expect(CURRENT_VAULT_EVENTS).toContain(e);
  });

  it("10. keeps the RDS recovery points in warm storage and says so: the backupStorage output and the recovery point tags", () => {
    for (const rule of (one(stack, "aws:backup/plan:Plan").args["rules"] as Any[])) {
      for (const l of [rule.lifecycle, ...(rule.copyActions ?? []).map((c: Any) => c.lifecycle)]) expect(l.coldStorageAfter).toBeUndefined();
      expect(rule.lifecycle.optInToArchiveForSupportedResources).toBeUndefined();
    }
    expect(get(stack).aws.outputs["backupStorage"]).toEqual([
      expect.objectContaining({ rule: "daily", resourceTypes: ["RDS"], storageClass: "warm", retentionDays: 30 }),
      expect.objectContaining({ rule: "weekly", resourceTypes: ["RDS"], storageClass: "warm", retentionDays: 365 }),
    ]);
  });

  it("11. TLS: the NLB negotiates TLS 1.3/1.2 only; CloudFront serves the frontend's name with a us-east-1 certificate", () => {
    const edge = k8sKind(stack, "Service").find((s) => nameOf(s) === "api-public")!;
    expect(metaOf(edge).annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"]).toBe(NLB_TLS_POLICY);
    const dist = one(stack, "aws:cloudfront/distribution:Distribution").args as Any;
    const cert = one(stack, "aws:acm/certificate:Certificate", `${stack}-frontend-cert`);
    expect(cert.args["domainName"]).toBe(get(stack).env.hosts.frontend);
    expect(one(stack, "pulumi:providers:aws", cert.provider).args["region"]).toBe("us-east-1");
    expect(dist.viewerCertificate).toEqual({ acmCertificateArn: expect.stringMatching(/^arn:aws:acm:us-east-1:/), sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    const host = get(stack).env.hosts.frontend;
    if (get(stack).config.dr.role === "primary") {
      expect(dist.aliases).toEqual([host]);
      const records = ofType(stack, "aws:route53/record:Record").filter((r) => r.args["name"] === host);
      expect(records.map((r) => r.args["type"]).sort()).toEqual(["A", "AAAA"]);
      for (const r of records) expect(r.args["aliases"]).toEqual([{ name: `${stack}-frontend.cloudfront.net`, zoneId: "Z2FDTNDATAQYW2", evaluateTargetHealth: false }]);
      // The blackbox probe and FrontendDeploymentFailed check exactly that name.
      const probe = k8sKind(stack, "Probe").find((p) => nameOf(p) === "frontend")!;
      expect((probe.args["spec"] as Any).targets.staticConfig.static).toEqual([`https://${host}/`]);
    } else {
      expect(dist.aliases).toBeUndefined(); // the alias lives on prod's distribution until a failover moves it
    }
  });

  describe("12. least privilege and visibility", () => {
    it("runs the load balancer controller with AWS's published policy, the CNI on its own role, nodes on IMDSv2 with hop limit 1", () => {
      const lbc = `${stack}-irsa-kube-system-aws-load-balancer-controller`;
      expect(inlinePolicyOf(stack, lbc)).toEqual(JSON.parse(JSON.stringify(LBC_IAM_POLICY)));
      expect(ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.args["role"] === lbc)).toEqual([]);
      const nodePolicies = ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => String(a.args["role"]) === `${stack}-eks-nodes`).map((a) => a.args["policyArn"]);
      expect(nodePolicies.sort()).toEqual(["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]);
      const lt = one(stack, "aws:ec2/launchTemplate:LaunchTemplate").args;
      expect(lt["metadataOptions"]).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(one(stack, "aws:eks/nodeGroup:NodeGroup").args["launchTemplate"]).toEqual({ id: `${stack}-nodes-id`, version: "1" });
    });

    it("restricts the EKS endpoint, ships every control-plane log, logs VPC flows and S3 access", () => {
      const eks = one(stack, "aws:eks/cluster:Cluster").args as Any;
      expect(eks.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
      if (eks.vpcConfig.endpointPublicAccess) expect(eks.vpcConfig.publicAccessCidrs).not.toContain("0.0.0.0/0");
      else expect(eks.vpcConfig.publicAccessCidrs).toBeUndefined();
      expect(one(stack, "aws:ec2/flowLog:FlowLog").args).toMatchObject({ trafficType: "ALL", logDestinationType: "cloud-watch-logs" });
      const buckets = ofType(stack, "aws:s3/bucket:Bucket");
      const logging = ofType(stack, "aws:s3/bucketLogging:BucketLogging");
      expect(logging.length).toBe(buckets.filter((b) => (b.args["tags"] as Any).purpose !== "access-logs").length);
    });

    it("logs every component in to the database as its own role; the master user's URL reaches only the db-roles Job", () => {
      const sources = new Map<string, string>();
      for (const r of [...k8sKind(stack, "Deployment"), ...k8sKind(stack, "Rollout"), ...k8sKind(stack, "Job"), ...k8sKind(stack, "CronJob")]) {
        for (const c of podSpec(r).containers) {
          const ref = envOf(c)["DATABASE_URL"]?.secretKeyRef;
          if (ref) sources.set(nameOf(r), ref.name);
        }
      }
      for (const [owner, secret] of sources) {
        if (owner.startsWith("db-roles-")) expect(secret).toBe("db-master");
        else expect(secret, owner).toMatch(/^db-(api|worker|scheduler|migrate|backup)$/);
      }
      expect([...sources.values()].filter((s) => s === "db-master").length).toBe(writable(stack) ? 1 : 0);
      if (writable(stack)) {
        const roles = k8sKind(stack, "Job").find((j) => nameOf(j).startsWith("db-roles-"))!;
        expect(json(envOf(podSpec(roles).containers[0])["DB_ROLES"])).toEqual(Object.values(DATABASE_ROLES));
      }
      const exporterDsn = k8sKind(stack, "Secret").find((s) => nameOf(s) === "postgres-exporter-dsn")!;
      expect(exporterDsn.args["stringData"]).toEqual({ DATA_SOURCE_NAME: REDACTED });
    });
  });

  it("17.5: the internet-facing Service targets the application port only; no public Service exposes the metrics listener", () => {
    const edge = k8sKind(stack, "Service").find((s) => nameOf(s) === "api-public")!;
    const ports = (edge.args["spec"] as Any).ports as Any[];
    expect(ports).toEqual([{ name: "https", port: 443, targetPort: "http" }]);
    const api = k8sKind(stack, "Rollout")[0]!;
    const resolved = ports.flatMap((p) => podSpec(api).containers.flatMap((c: Any) => c.ports.filter((cp: Any) => cp.name === p.targetPort).map((cp: Any) => cp.containerPort)));
    expect(resolved).toEqual([APP_PORT]);
    expect(resolved).not.toContain(METRICS_PORT);
    for (const svc of k8sKind(stack, "Service").filter((s) => ["LoadBalancer", "NodePort"].includes((s.args["spec"] as Any).type))) {
      for (const p of (svc.args["spec"] as Any).ports) {
        expect([p.port, p.targetPort], nameOf(svc)).not.toContain(METRICS_PORT);
        expect(p.targetPort, nameOf(svc)).not.toBe("metrics");
      }
    }
    // Prometheus reaches the metrics listener from the monitoring namespace; the NLB reaches only the app port.
    const policies = k8sKind(stack, "NetworkPolicy").map((r) => r.args as Any);
    expect(policies.find((p) => p.metadata.name === "allow-prometheus-scrape").spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: METRICS_PORT }]);
    expect(policies.find((p) => p.metadata.name === "allow-api-ingress").spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: APP_PORT }]);
  });

  describe("11 (issue 11). the ops CronJobs run the committed commands from the ops image", () => {
    it("has no scripts ConfigMap, and every ops container runs an OPS_COMMANDS entry", () => {
      expect(k8sKind(stack, "ConfigMap").map(nameOf)).not.toContain("ops-scripts");
      const committed = Object.values(OPS_COMMANDS).map((c) => JSON.stringify(c));
      for (const r of [...k8sKind(stack, "Job"), ...k8sKind(stack, "CronJob")]) {
        for (const c of podSpec(r).containers) expect(committed, nameOf(r)).toContain(JSON.stringify(c.command));
      }
    });

    it("runs the monthly RDS point-in-time restore drill with exactly its environment contract", () => {
      if (!writable(stack)) return;
      const drill = k8sKind(stack, "CronJob").find((c) => nameOf(c) === "restore-drill")!;
      const c = podSpec(drill).containers[0];
      expect(c.command).toEqual([...OPS_COMMANDS.restoreDrill]);
      expect(c.image).toMatch(/-ops:/);
      const env = envOf(c);
      expect(Object.keys(env).sort()).toEqual(["AWS_REGION", "DATABASE_URL", "INSTANCE_CLASS", "RESTORE_MODE", "SECURITY_GROUP", "SOURCE_DB", "SUBNET_GROUP"]);
      const outputs = get(stack).aws.outputs;
      expect(env).toMatchObject({
        RESTORE_MODE: "rds-pitr",
        SOURCE_DB: outputs["databaseIdentifier"],
        SUBNET_GROUP: outputs["databaseSubnetGroupName"],
        SECURITY_GROUP: outputs["databaseSecurityGroupId"],
        INSTANCE_CLASS: get(stack).config.rds.instanceClass,
        AWS_REGION: get(stack).config.region,
      });
      expect(podSpec(drill).serviceAccountName).toBe("restore-drill");
    });

    it("mails the daily digest from the monitoring namespace, allowed to reach Prometheus, Alertmanager and the smarthost only", () => {
      const digest = k8sKind(stack, "CronJob").find((c) => nameOf(c) === "alert-digest")!;
      expect(metaOf(digest).namespace).toBe("monitoring");
      const c = podSpec(digest).containers[0];
      expect(c.command).toEqual([...OPS_COMMANDS.digest]);
      const mon = get(stack).env.monitoring;
      expect(envOf(c)).toEqual({
        PROMETHEUS_URL: "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        ALERTMANAGER_URL: "http://kube-prometheus-stack-alertmanager.monitoring.svc:9093",
        SMTP_SMARTHOST: mon.smarthost,
        SMTP_FROM: mon.emailFrom,
        SMTP_TO: mon.digestEmail,
        SMTP_PASSWORD_FILE: "/etc/digest/secrets/smtp-password",
      });
      expect(podSpec(digest).volumes).toContainEqual({ name: "smtp", secret: { secretName: "alertmanager-secrets", items: [{ key: "smtp-password", path: "smtp-password" }] } });
      const policy = k8sKind(stack, "NetworkPolicy").find((p) => nameOf(p) === "alert-digest")!.args as Any;
      const podLabels = (digest.args["spec"] as Any).jobTemplate.spec.template.metadata.labels;
      expect(policy.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "alert-digest", "app.kubernetes.io/component": "digest" });
      expect(podLabels).toMatchObject(policy.spec.podSelector.matchLabels);
      expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(policy.spec.egress.flatMap((e: Any) => e.ports.map((p: Any) => p.port)).sort((a: number, b: number) => a - b)).toEqual([53, 53, 587, 9090, 9093]);
    });
  });
});

describe("5. the DR database follows prod", () => {
  it("prod-dr's database is a read replica of prod's in the second region, whose lag its CloudWatch exporter scrapes for the alert", () => {
    const db = one("prod-dr", "aws:rds/instance:Instance").args as Any;
    expect(db.replicateSourceDb).toBe(get("prod").aws.outputs["databaseArn"]);
    expect(get("prod-dr").aws.outputs["databaseReplicaIdentifiers"]).toEqual(["prod-dr-postgres"]);
    const cw = JSON.parse((one("prod-dr", "kubernetes:helm.sh/v3:Release", "cloudwatch-exporter").args["values"] as Any).config);
    expect(cw.region).toBe("eu-central-1");
    expect(cw.metrics.find((m: Any) => m.aws_metric_name === "ReplicaLag").aws_dimension_select.DBInstanceIdentifier).toEqual(["prod-dr-postgres"]);
    const lagAlert = ruleGroups(get("prod-dr").env).flatMap((g) => g.rules).find((r) => "alert" in r && r.alert === "DatabaseReplicationUnhealthy")!;
    expect(lagAlert.expr).toContain(awsRdsReplicaLagMaximum.name);
    // The replica shares prod's roles: the URLs it hands the workloads point at the DR instance.
    expect(db.username).toBeUndefined();
  });

  it("prod-dr serves read-only until promoted: no workers, no scheduler, no writing Jobs, no failover record", () => {
    for (const so of k8sKind("prod-dr", "ScaledObject")) expect(metaOf(so).annotations).toEqual({ "autoscaling.keda.sh/paused-replicas": "0" });
    expect((k8sKind("prod-dr", "Deployment").find((d) => nameOf(d) === "scheduler")!.args["spec"] as Any).replicas).toBe(0);
    expect(k8sKind("prod-dr", "Job")).toEqual([]);
    expect(ofType("prod-dr", "aws:route53/record:Record").filter((r) => r.args["failoverRoutingPolicies"])).toEqual([]);
    for (const so of k8sKind("prod", "ScaledObject")) expect(metaOf(so).annotations).toBeUndefined();
  });

  it("gives the RPO dr-failover.md states: lag threshold + the exporter's delay and period, inside the 1 h target", async () => {
    const cw = JSON.parse((one("prod-dr", "kubernetes:helm.sh/v3:Release", "cloudwatch-exporter").args["values"] as Any).config);
    const lagAlert = ruleGroups(get("prod-dr").env).flatMap((g) => g.rules).find((r) => "alert" in r && r.alert === "DatabaseReplicationUnhealthy")!;
    expect(lagAlert.expr).toContain(`> ${THRESHOLDS.replicationLagSeconds})`);
    const rpo = replicaFailoverRpoSeconds(THRESHOLDS.replicationLagSeconds);
    expect(rpo).toBe(THRESHOLDS.replicationLagSeconds + cw.delay_seconds + cw.period_seconds);
    expect(rpo).toBeLessThan(THRESHOLDS.rpoSeconds);
    const page = await readFile(new URL("../../runbooks/procedures/dr-failover.md", import.meta.url), "utf8");
    expect(page).toContain(`**RPO: at most ${rpo / 60} minutes while \`DatabaseReplicationUnhealthy\` is silent** (${THRESHOLDS.replicationLagSeconds} s threshold + ${cw.delay_seconds} s delay + ${cw.period_seconds} s period)`);
  });

  it("prod-dr's backup alerts reach prod's PagerDuty service", () => {
    const https = ofType("prod-dr", "aws:sns/topicSubscription:TopicSubscription").find((s) => s.args["protocol"] === "https")!;
    expect(https.args["endpoint"]).toBe(REDACTED);
    expect(get("prod").aws.outputs["backupAlertsEndpoint"]).toMatch(/^https:\/\/events\.pagerduty\.com\/integration\/mock-integration-key-prod-pd-service-.*-aws-sns\/enqueue$/);
  });
});
