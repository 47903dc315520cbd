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
