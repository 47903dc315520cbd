/**
 * Stack policies: how a stack's resources fit together. Each is a plain function over the stack's
 * resources (`{type, name, args, provider?, propertyDependencies?}`), linked the way a policy
 * pack sees them: through propertyDependencies ("type::name" of the resources a property was
 * computed from), falling back to matching values (names, ARNs) where a plan carries none.
 *
 * The pack runs them over each project's stack. ENVIRONMENT_POLICIES also judge both stacks of an
 * environment together (the tests and `npm run policy:check` do): an IRSA annotation in the
 * cluster stack names a role of the AWS stack.
 */
import { isDeepStrictEqual } from "node:util";
import {
  CLOUDFRONT_CERTIFICATE_REGION,
  CLOUDFRONT_MINIMUM_PROTOCOL,
  COMPLIANCE_GRACE_DAYS,
  CURRENT_VAULT_EVENTS,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  NODE_METADATA_OPTIONS,
  READ_ONLY_POLICY,
} from "../settings.js";
import { LBC_IAM_POLICY } from "../lbc-iam-policy.js";
import { IRSA_ANNOTATION, IRSA_SERVICE_ACCOUNTS, serviceAccountSubject } from "../service-accounts.js";
import type { ServiceAccountRef } from "../service-accounts.js";
import { APP_PORT, METRICS_PORT } from "../../model/workloads.js";
import { arr, containersOf, isObj, podSpecOf, tagsOf } from "./rules.js";
import type { Obj, PolicyResource } from "./rules.js";

export interface StackPolicy {
  readonly name: string;
  readonly description: string;
  /** Violation messages for a stack's resources; empty when they comply. */
  readonly validateStack: (resources: readonly PolicyResource[]) => string[];
}

// ---- helpers ---------------------------------------------------------------------------------

const key = (r: PolicyResource) => `${r.type}::${r.name}`;
const ofType = (rs: readonly PolicyResource[], type: string) => rs.filter((r) => r.type === type);
/** The resources a property of `r` was computed from (propertyDependencies). */
const linked = (r: PolicyResource, prop: string): string[] => r.propertyDependencies?.[prop] ?? [];
/** Whether `r`'s property refers to `target`: by dependency, or by value (its name, or its ARN ending). */
function refersTo(r: PolicyResource, prop: string, target: PolicyResource, values: readonly string[] = []): boolean {
  if (linked(r, prop).includes(key(target))) return true;
  const v = r.args[prop];
  const candidates = [target.name, String(target.args["name"] ?? ""), String(target.args["bucket"] ?? ""), ...values].filter((c) => c !== "");
  return typeof v === "string" && candidates.some((c) => v === c || v === `${c}-id` || v.endsWith(`/${c}`) || v.endsWith(`:${c}`));
}
const meta = (r: PolicyResource): Obj => (isObj(r.args["metadata"]) ? r.args["metadata"] : {});
const annotationsOf = (r: PolicyResource): Obj => (isObj(meta(r)["annotations"]) ? (meta(r)["annotations"] as Obj) : {});

export interface Statement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: string[];
  readonly Principal?: unknown;
  readonly Condition?: Obj;
}

/** The statements of an IAM policy document (a JSON string or an object), actions and resources as lists. */
export function statementsOf(doc: unknown): Statement[] {
  let parsed: unknown = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const list = isObj(parsed) ? (Array.isArray(parsed["Statement"]) ? parsed["Statement"] : [parsed["Statement"]]) : [];
  return list.filter(isObj).map((s) => ({
    Effect: String(s["Effect"] ?? "Allow"),
    Action: (Array.isArray(s["Action"]) ? s["Action"] : [s["Action"]]).map(String),
    Resource: (Array.isArray(s["Resource"]) ? s["Resource"] : s["Resource"] === undefined ? [] : [s["Resource"]]).map(String),
    ...(s["Principal"] !== undefined ? { Principal: s["Principal"] } : {}),
    ...(isObj(s["Condition"]) ? { Condition: s["Condition"] } : {}),
  }));
}

/** Whether an IAM action pattern (with * wildcards) covers `action`. */
const actionMatches = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action);
const allows = (s: Statement, action: string) => s.Effect === "Allow" && s.Action.some((a) => actionMatches(a, action));

/** The IAM permission policies of a stack: inline role policies and managed policies, with the role they belong to. */
function permissionPolicies(rs: readonly PolicyResource[]): { resource: PolicyResource; statements: Statement[] }[] {
  return rs.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" || r.type === "aws:iam/policy:Policy").map((r) => ({ resource: r, statements: statementsOf(r.args["policy"]) }));
}

/** The region of a resource: its explicit provider's region. */
function regionOf(r: PolicyResource, rs: readonly PolicyResource[]): string | undefined {
  if (typeof r.args["region"] === "string") return r.args["region"];
  const provider = rs.find((p) => p.type === "pulumi:providers:aws" && p.name === r.provider);
  return typeof provider?.args["region"] === "string" ? provider.args["region"] : undefined;
}

/** The web identity subjects a role's trust policy admits, per OIDC `sub` condition. */
function trustedSubjects(role: PolicyResource): string[] {
  return statementsOf(role.args["assumeRolePolicy"]).flatMap((s) => {
    const eq = isObj(s.Condition?.["StringEquals"]) ? (s.Condition["StringEquals"] as Obj) : {};
    return Object.entries(eq)
      .filter(([k]) => k.endsWith(":sub"))
      .flatMap(([, v]) => (Array.isArray(v) ? v.map(String) : [String(v)]));
  });
}

const roleNameOfArn = (arn: string) => arn.split("/").pop() ?? arn;
const roleName = (r: PolicyResource) => String(r.args["name"] ?? r.name);

// ---- point 1: the deploy path ------------------------------------------------------------------

/** Issue 18.1: a stack with a private-only EKS endpoint drives no Kubernetes objects and has a deploy runner inside the VPC. */
export const clusterDeployPath: StackPolicy = {
  name: "cluster-deploy-path",
  description:
    "Where the EKS endpoint is private only, the stack that creates the cluster applies no Kubernetes objects (nothing outside the VPC reaches the API), and creates the deploy path: a CodeBuild GitHub Actions runner in the VPC (webhook on WORKFLOW_JOB_QUEUED) allowed to the API on 443, and an EKS access entry with an access policy for the deploy role.",
  validateStack: (rs) => {
    const clusters = ofType(rs, "aws:eks/cluster:Cluster").filter((c) => isObj(c.args["vpcConfig"]) && c.args["vpcConfig"]["endpointPublicAccess"] === false);
    if (clusters.length === 0) return [];
    const out: string[] = [];
    const k8s = rs.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:index:Provider" && !r.type.startsWith("pulumi:"));
    if (k8s.length > 0) out.push(`${k8s.length} Kubernetes resources are applied by the stack of a cluster whose endpoint is private (e.g. ${k8s[0]!.name}): they belong to the cluster stack, applied from the deploy runner`);
    const runners = ofType(rs, "aws:codebuild/project:Project").filter((p) => isObj(p.args["vpcConfig"]) && arr(p.args["vpcConfig"]["subnets"]).length > 0);
    const hooked = runners.filter((p) =>
      ofType(rs, "aws:codebuild/webhook:Webhook").some(
        (w) => refersTo(w, "projectName", p) && arr(w.args["filterGroups"]).filter(isObj).some((g) => arr(g["filters"]).filter(isObj).some((f) => f["type"] === "EVENT" && String(f["pattern"]).includes("WORKFLOW_JOB_QUEUED"))),
      ),
    );
    if (hooked.length === 0) out.push("no deploy runner: no CodeBuild project in the VPC with a WORKFLOW_JOB_QUEUED webhook (a CodeBuild-hosted GitHub Actions runner)");
    for (const p of hooked) {
      const sgs = isObj(p.args["vpcConfig"]) ? arr(p.args["vpcConfig"]["securityGroupIds"]).map(String) : [];
      const sgResources = ofType(rs, "aws:ec2/securityGroup:SecurityGroup").filter((sg) => linked(p, "vpcConfig").includes(key(sg)) || sgs.includes(`${sg.name}-id`));
      const reaches = ofType(rs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").some(
        (rule) => Number(rule.args["fromPort"]) <= 443 && Number(rule.args["toPort"]) >= 443 && sgResources.some((sg) => refersTo(rule, "referencedSecurityGroupId", sg)),
      );
      if (!reaches) out.push(`${p.name}: the runner's security group is not admitted to the cluster's API on 443`);
    }
    for (const c of clusters) {
      const entries = ofType(rs, "aws:eks/accessEntry:AccessEntry").filter((e) => refersTo(e, "clusterName", c, [String(c.args["name"] ?? "")]));
      const policies = ofType(rs, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter((a) => refersTo(a, "clusterName", c, [String(c.args["name"] ?? "")]));
      if (entries.length === 0 || policies.length === 0) out.push(`${c.name}: no EKS access entry with an access policy for the deploy role`);
    }
    return out;
  },
};

/** A GitHub OIDC subject of one repository and one environment, branch or its pull requests; no wildcard. */
const GITHUB_SUBJECT_RE = /^repo:[^:*/]+\/[^:*/]+:(environment:[^*]+|ref:refs\/heads\/[^*]+|pull_request)$/;
/** Actions a pull-request role may be allowed: reads, and decrypting the stack's config. */
const READ_ACTION_RE = /^[a-z0-9-]+:(Get|List|Describe)[A-Za-z]*$|^kms:Decrypt$/;

/** The GitHub OIDC trust statements of a role (Federated principal on GitHub's issuer). */
function githubTrust(role: PolicyResource): Statement[] {
  return statementsOf(role.args["assumeRolePolicy"]).filter(
    (s) => s.Effect === "Allow" && s.Action.includes("sts:AssumeRoleWithWebIdentity") && isObj(s.Principal) && String(s.Principal["Federated"] ?? "").includes(GITHUB_OIDC_HOST),
  );
}

/**
 * Issue 12: GitHub Actions roles trust one subject each, exactly, for AWS's audience; a role that
 * pull requests can assume (code of any branch runs as it) is read-only.
 */
export const githubOidcTrustScoped: StackPolicy = {
  name: "github-oidc-trust-scoped",
  description:
    `Every role trusting GitHub's OIDC issuer requires StringEquals ${GITHUB_OIDC_HOST}:aud = ${GITHUB_OIDC_AUDIENCE} and StringEquals ${GITHUB_OIDC_HOST}:sub = one repository's environment, branch or pull_request (no wildcard, no StringLike); a role trusting pull_request is allowed reads only (Get/List/Describe, kms:Decrypt) and has no managed policy but ${READ_ONLY_POLICY}.`,
  validateStack: (rs) => {
    const out: string[] = [];
    for (const role of ofType(rs, "aws:iam/role:Role")) {
      const name = roleName(role);
      const trust = githubTrust(role);
      let pullRequests = false;
      for (const s of trust) {
        const eq = isObj(s.Condition?.["StringEquals"]) ? (s.Condition["StringEquals"] as Obj) : {};
        const like = isObj(s.Condition?.["StringLike"]) ? (s.Condition["StringLike"] as Obj) : {};
        if (eq[`${GITHUB_OIDC_HOST}:aud`] !== GITHUB_OIDC_AUDIENCE) out.push(`${name}: trusts GitHub's OIDC tokens without StringEquals ${GITHUB_OIDC_HOST}:aud = ${GITHUB_OIDC_AUDIENCE}`);
        const sub = eq[`${GITHUB_OIDC_HOST}:sub`];
        if (typeof sub !== "string" || !GITHUB_SUBJECT_RE.test(sub)) out.push(`${name}: trusts GitHub's OIDC tokens without StringEquals ${GITHUB_OIDC_HOST}:sub = one repository's environment, branch or pull_request (it has ${JSON.stringify(sub ?? null)}): any workflow of any repository could assume it`);
        if (`${GITHUB_OIDC_HOST}:sub` in like) out.push(`${name}: matches ${GITHUB_OIDC_HOST}:sub with StringLike: name one subject`);
        if (typeof sub === "string" && sub.endsWith(":pull_request")) pullRequests = true;
      }
      if (!pullRequests) continue;
      const ownPolicies = permissionPolicies(rs).filter(({ resource }) => resource.type === "aws:iam/rolePolicy:RolePolicy" && refersTo(resource, "role", role));
      for (const { resource, statements } of ownPolicies) {
        const writes = statements.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action.filter((a) => !READ_ACTION_RE.test(a)));
        if (writes.length > 0) out.push(`${name}: pull requests can assume it, but ${resource.name} allows ${writes.join(", ")}: code of any branch would run with them`);
      }
      for (const a of ofType(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => refersTo(a, "role", role))) {
        if (a.args["policyArn"] !== READ_ONLY_POLICY) out.push(`${name}: pull requests can assume it, but it has the managed policy ${String(a.args["policyArn"])}`);
      }
    }
    return out;
  },
};

// ---- point 3: IRSA ---------------------------------------------------------------------------

/** EKS add-ons and the service account their controller runs as. */
const ADDON_SERVICE_ACCOUNTS: Record<string, ServiceAccountRef> = { "vpc-cni": IRSA_SERVICE_ACCOUNTS.vpcCni, "aws-ebs-csi-driver": IRSA_SERVICE_ACCOUNTS.ebsCsi };

/** Every service account bound to an IAM role in these resources: ServiceAccounts, Helm charts' service accounts, EKS add-ons. */
function roleBindings(rs: readonly PolicyResource[]): { where: string; sa: ServiceAccountRef; arn: string }[] {
  const out: { where: string; sa: ServiceAccountRef; arn: string }[] = [];
  for (const r of rs) {
    if (r.type === "kubernetes:core/v1:ServiceAccount") {
      const arn = annotationsOf(r)[IRSA_ANNOTATION];
      if (arn !== undefined) out.push({ where: r.name, sa: { namespace: String(meta(r)["namespace"]), name: String(meta(r)["name"]) }, arn: String(arn) });
    } else if (r.type === "kubernetes:helm.sh/v3:Release" && isObj(r.args["values"]) && isObj(r.args["values"]["serviceAccount"])) {
      const sa = r.args["values"]["serviceAccount"];
      const arn = isObj(sa["annotations"]) ? sa["annotations"][IRSA_ANNOTATION] : undefined;
      if (arn !== undefined) out.push({ where: r.name, sa: { namespace: String(r.args["namespace"]), name: String(sa["name"] ?? r.args["name"]) }, arn: String(arn) });
    } else if (r.type === "aws:eks/addon:Addon" && r.args["serviceAccountRoleArn"] !== undefined) {
      const sa = ADDON_SERVICE_ACCOUNTS[String(r.args["addonName"])];
      if (sa) out.push({ where: r.name, sa, arn: String(r.args["serviceAccountRoleArn"]) });
      else out.push({ where: r.name, sa: { namespace: "?", name: `add-on ${String(r.args["addonName"])}` }, arn: String(r.args["serviceAccountRoleArn"]) });
    }
  }
  return out;
}

/** Issue 18.3: every IRSA annotation names the service account's own role, whose trust admits exactly that service account. */
export const irsaTrustMatchesServiceAccount: StackPolicy = {
  name: "irsa-trust-matches-service-account",
  description:
    "Every service account bound to an IAM role (annotation eks.amazonaws.com/role-arn, a chart's serviceAccount, an add-on's serviceAccountRoleArn) names its own role (<env>-irsa-<namespace>-<name>), whose trust policy admits exactly that service account; every IRSA role trusts the service account it is tagged with.",
  validateStack: (rs) => {
    const roles = ofType(rs, "aws:iam/role:Role");
    const out: string[] = [];
    for (const b of roleBindings(rs)) {
      const name = roleNameOfArn(b.arn);
      if (!name.endsWith(`-irsa-${b.sa.namespace}-${b.sa.name}`)) out.push(`${b.where}: ${b.sa.namespace}/${b.sa.name} is bound to role ${name}, which is not its own (…-irsa-${b.sa.namespace}-${b.sa.name})`);
      const role = roles.find((r) => roleName(r) === name || r.name === name);
      if (role && !trustedSubjects(role).includes(serviceAccountSubject(b.sa))) {
        out.push(`${b.where}: role ${name} does not trust ${serviceAccountSubject(b.sa)} (it trusts ${trustedSubjects(role).join(", ") || "no service account"}): the pods get no AWS credentials`);
      }
    }
    for (const role of roles) {
      const t = tagsOf(role);
      if (t["irsa-namespace"] === undefined) continue;
      const subject = serviceAccountSubject({ namespace: String(t["irsa-namespace"]), name: String(t["irsa-service-account"]) });
      const subjects = trustedSubjects(role);
      if (subjects.length !== 1 || subjects[0] !== subject) out.push(`${role.name}: tagged for ${subject} but trusts ${subjects.join(", ") || "nothing"}`);
    }
    return out;
  },
};

// ---- point 6: restore drill --------------------------------------------------------------------

const RDS_WRITES = ["rds:RestoreDBInstanceToPointInTime", "rds:RestoreDBInstanceFromDBSnapshot", "rds:CreateDBInstance", "rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:AddTagsToResource"];

/** Issue 18.6: RDS writes are scoped by ARN or tag, and a point-in-time restore of an encrypted instance may use its key. */
export const rdsRestoreLeastPrivilege: StackPolicy = {
  name: "rds-restore-least-privilege",
  description:
    "IAM policies grant RDS create/restore/modify/delete/tag actions on named ARNs or under a tag condition, never on every resource; a policy that restores an instance point-in-time also grants kms:CreateGrant and kms:DescribeKey on that instance's KMS key.",
  validateStack: (rs) => {
    const out: string[] = [];
    const instances = ofType(rs, "aws:rds/instance:Instance").filter((i) => i.args["replicateSourceDb"] === undefined);
    for (const { resource, statements } of permissionPolicies(rs)) {
      for (const s of statements) {
        const writes = RDS_WRITES.filter((a) => allows(s, a));
        if (writes.length > 0 && s.Resource.includes("*") && s.Condition === undefined) out.push(`${resource.name}: ${writes.join(", ")} on every resource`);
      }
      const restores = statements.filter((s) => allows(s, "rds:RestoreDBInstanceToPointInTime"));
      if (restores.length === 0) continue;
      const restoredResources = restores.flatMap((s) => s.Resource);
      for (const db of instances) {
        const identifier = String(db.args["identifier"] ?? db.name);
        if (!restoredResources.some((res) => res === "*" || res.endsWith(`:db:${identifier}`))) continue;
        const keyArn = String(db.args["kmsKeyId"] ?? "");
        if (keyArn === "") continue;
        for (const action of ["kms:CreateGrant", "kms:DescribeKey"]) {
          if (!statements.some((s) => allows(s, action) && (s.Resource.includes(keyArn) || linked(resource, "policy").some((k) => keyArn.endsWith(`/${k.split("::")[1]}`)))))
            out.push(`${resource.name}: restores ${identifier} (encrypted with ${keyArn}) without ${action} on that key: RDS refuses the restore`);
        }
      }
    }
    return out;
  },
};

// ---- point 7: dumps in the second region -------------------------------------------------------

const isDumpBucket = (b: PolicyResource) => (tagsOf(b)["data"] === "database-dumps" || String(tagsOf(b)["Name"] ?? "").endsWith("-db-dumps")) && tagsOf(b)["replica-of"] === undefined;

/** Issue 18.7: where backups are copied to the second region, the pg_dump files are too. */
export const dumpBucketReplicated: StackPolicy = {
  name: "dump-bucket-replicated",
  description: "In a stack whose AWS Backup plan copies recovery points to another region, the database-dumps bucket replicates to a bucket in another region.",
  validateStack: (rs) => {
    const copies = ofType(rs, "aws:backup/plan:Plan").some((p) => arr(p.args["rules"]).filter(isObj).some((rule) => arr(rule["copyActions"]).length > 0));
    if (!copies) return [];
    const buckets = ofType(rs, "aws:s3/bucket:Bucket");
    return buckets.filter(isDumpBucket).flatMap((b) => {
      const home = regionOf(b, rs);
      const replicated = ofType(rs, "aws:s3/bucketReplicationConfig:BucketReplicationConfig").some(
        (c) =>
          refersTo(c, "bucket", b) &&
          arr(c.args["rules"]).filter(isObj).some((rule) => {
            const dest = isObj(rule["destination"]) ? rule["destination"] : {};
            const target = buckets.find((t) => t !== b && (linked(c, "rules").includes(key(t)) || String(dest["bucket"] ?? "").endsWith(`:::${String(t.args["bucket"] ?? `${t.name}-bucket`)}`)));
            return rule["status"] === "Enabled" && target !== undefined && regionOf(target, rs) !== home;
          }),
      );
      return replicated ? [] : [`${b.name}: the dumps are not replicated to another region (its backups are)`];
    });
  },
};

// ---- point 8: vault lock -----------------------------------------------------------------------

/** Issue 18.8: recovery points cannot be deleted early. */
export const backupVaultsLocked: StackPolicy = {
  name: "backup-vaults-locked",
  description: `Every backup vault has a Vault Lock whose min/max retention bracket the plan's lifecycles (compliance mode, ${COMPLIANCE_GRACE_DAYS}-day grace, in prod; governance elsewhere) and an access policy that denies backup:DeleteRecoveryPoint.`,
  validateStack: (rs) => {
    const lifecycles = ofType(rs, "aws:backup/plan:Plan").flatMap((p) =>
      arr(p.args["rules"])
        .filter(isObj)
        .flatMap((rule) => [rule["lifecycle"], ...arr(rule["copyActions"]).filter(isObj).map((c) => c["lifecycle"])])
        .filter(isObj)
        .map((l) => Number(l["deleteAfter"] ?? 0)),
    );
    const out: string[] = [];
    for (const vault of ofType(rs, "aws:backup/vault:Vault")) {
      const locks = ofType(rs, "aws:backup/vaultLockConfiguration:VaultLockConfiguration").filter((l) => refersTo(l, "backupVaultName", vault));
      const lock = locks[0];
      if (!lock) out.push(`${vault.name}: no Vault Lock`);
      else {
        const [min, max] = [Number(lock.args["minRetentionDays"] ?? 0), Number(lock.args["maxRetentionDays"] ?? Number.POSITIVE_INFINITY)];
        if (lifecycles.length > 0 && (min === 0 || min > Math.min(...lifecycles) || max < Math.max(...lifecycles))) out.push(`${vault.name}: the lock's retention [${min}, ${max}] days does not match the plan's lifecycles (${Math.min(...lifecycles)}-${Math.max(...lifecycles)} days)`);
        if (tagsOf(vault)["environment"] === "prod" && Number(lock.args["changeableForDays"] ?? 0) < COMPLIANCE_GRACE_DAYS) out.push(`${vault.name}: prod's vault lock must be in compliance mode (changeableForDays >= ${COMPLIANCE_GRACE_DAYS})`);
      }
      const policies = ofType(rs, "aws:backup/vaultPolicy:VaultPolicy").filter((p) => refersTo(p, "backupVaultName", vault));
      const denies = policies.some((p) => statementsOf(p.args["policy"]).some((s) => s.Effect === "Deny" && s.Action.some((a) => actionMatches(a, "backup:DeleteRecoveryPoint"))));
      if (!denies) out.push(`${vault.name}: no vault access policy denying backup:DeleteRecoveryPoint`);
    }
    return out;
  },
};

// ---- point 9: backup-failure notifications -------------------------------------------------------

/** Issue 18.9: the backup-failure topic is encrypted, fed only by events AWS Backup still emits, and reaches on-call. */
export const backupFailuresReachOnCall: StackPolicy = {
  name: "backup-failures-reach-on-call",
  description:
    "Vault notifications subscribe only to events AWS Backup still emits; every topic receiving AWS Backup failures is KMS-encrypted and has a subscriber, in prod an HTTPS one (PagerDuty) besides email.",
  validateStack: (rs) => {
    const out: string[] = [];
    const topics = ofType(rs, "aws:sns/topic:Topic");
    const fed = new Set<PolicyResource>();
    for (const n of ofType(rs, "aws:backup/vaultNotifications:VaultNotifications")) {
      const stale = arr(n.args["backupVaultEvents"]).map(String).filter((e) => !(CURRENT_VAULT_EVENTS as readonly string[]).includes(e));
      if (stale.length > 0) out.push(`${n.name}: ${stale.join(", ")} ${stale.length > 1 ? "are" : "is"} deprecated and never emitted`);
      for (const t of topics) if (refersTo(n, "snsTopicArn", t)) fed.add(t);
    }
    const backupRules = ofType(rs, "aws:cloudwatch/eventRule:EventRule").filter((r) => String(r.args["eventPattern"] ?? "").includes("aws.backup"));
    for (const target of ofType(rs, "aws:cloudwatch/eventTarget:EventTarget")) {
      if (!backupRules.some((r) => refersTo(target, "rule", r))) continue;
      for (const t of topics) if (refersTo(target, "arn", t)) fed.add(t);
    }
    for (const t of fed) {
      if (t.args["kmsMasterKeyId"] === undefined) out.push(`${t.name}: not encrypted (kmsMasterKeyId)`);
      const subs = ofType(rs, "aws:sns/topicSubscription:TopicSubscription").filter((s) => refersTo(s, "topic", t));
      if (subs.length === 0) out.push(`${t.name}: no subscription: backup failures reach no one`);
      if (tagsOf(t)["environment"] === "prod" && !subs.some((s) => s.args["protocol"] === "https")) out.push(`${t.name}: prod's backup failures do not page (no HTTPS subscription to PagerDuty)`);
      if (!subs.some((s) => s.args["protocol"] === "email")) out.push(`${t.name}: no email subscription`);
    }
    return out;
  },
};

// ---- point 10: what backups cost ---------------------------------------------------------------

/** Issue 18.10: no cold storage where AWS Backup has none (RDS), and each recovery point says what it costs. */
export const backupLifecycleSupported: StackPolicy = {
  name: "backup-lifecycle-supported",
  description: "AWS Backup rules that back up RDS move nothing to cold storage (RDS has none: the setting would be ignored), and their recovery points carry their storage class and retention (storage-class, retention-days tags).",
  validateStack: (rs) => {
    const rdsPlans = new Set(
      ofType(rs, "aws:backup/selection:Selection")
        .filter((s) => arr(s.args["resources"]).some((a) => String(a).startsWith("arn:aws:rds:")) || linked(s, "resources").some((k) => k.startsWith("aws:rds/")))
        .flatMap((s) => ofType(rs, "aws:backup/plan:Plan").filter((p) => refersTo(s, "planId", p))),
    );
    const out: string[] = [];
    for (const p of ofType(rs, "aws:backup/plan:Plan")) {
      for (const rule of arr(p.args["rules"]).filter(isObj)) {
        const lifecycles = [rule["lifecycle"], ...arr(rule["copyActions"]).filter(isObj).map((c) => c["lifecycle"])].filter(isObj);
        if (rdsPlans.has(p) && lifecycles.some((l) => l["coldStorageAfter"] !== undefined)) out.push(`${p.name}: rule ${String(rule["ruleName"])} moves RDS recovery points to cold storage, which AWS Backup does not support for RDS`);
        const t = isObj(rule["recoveryPointTags"]) ? rule["recoveryPointTags"] : {};
        if (t["storage-class"] === undefined || t["retention-days"] === undefined) out.push(`${p.name}: rule ${String(rule["ruleName"])}'s recovery points do not carry storage-class and retention-days`);
      }
    }
    return out;
  },
};

// ---- point 11: the frontend on its domain ------------------------------------------------------

/** Issue 18.11: CloudFront serves the frontend's own name with an ACM certificate from us-east-1, TLS 1.2+. */
export const cloudfrontOnOwnDomain: StackPolicy = {
  name: "cloudfront-on-own-domain",
  description: `CloudFront distributions use an ACM certificate made in ${CLOUDFRONT_CERTIFICATE_REGION} (SNI, ${CLOUDFRONT_MINIMUM_PROTOCOL}); a primary's distribution carries the frontend's name as an alias, with alias records in Route 53.`,
  validateStack: (rs) => {
    const out: string[] = [];
    const certs = ofType(rs, "aws:acm/certificate:Certificate");
    for (const d of ofType(rs, "aws:cloudfront/distribution:Distribution")) {
      const vc = isObj(d.args["viewerCertificate"]) ? d.args["viewerCertificate"] : {};
      const arn = String(vc["acmCertificateArn"] ?? "");
      if (vc["cloudfrontDefaultCertificate"] === true || arn === "") {
        out.push(`${d.name}: serves *.cloudfront.net's default certificate, not the frontend's name`);
      } else {
        const cert = certs.find((c) => arn.endsWith(`/${c.name}`)) ?? certs.find((c) => linked(d, "viewerCertificate").some((k) => k.endsWith(`::${c.name}`)));
        const region = cert ? regionOf(cert, rs) : /^arn:aws:acm:([^:]+):/.exec(arn)?.[1];
        if (region !== CLOUDFRONT_CERTIFICATE_REGION) out.push(`${d.name}: its certificate is in ${region ?? "an unknown region"}; CloudFront reads certificates from ${CLOUDFRONT_CERTIFICATE_REGION} only`);
        if (vc["sslSupportMethod"] !== "sni-only" || vc["minimumProtocolVersion"] !== CLOUDFRONT_MINIMUM_PROTOCOL) out.push(`${d.name}: viewer TLS must be sni-only with ${CLOUDFRONT_MINIMUM_PROTOCOL}`);
      }
      const aliases = arr(d.args["aliases"]).map(String);
      if (aliases.length === 0 && tagsOf(d)["dr-role"] !== "standby") out.push(`${d.name}: no alias: the frontend's name does not reach it`);
      for (const alias of aliases) {
        const records = ofType(rs, "aws:route53/record:Record").filter((r) => r.args["name"] === alias && arr(r.args["aliases"]).length > 0);
        if (!records.some((r) => r.args["type"] === "A")) out.push(`${d.name}: no Route 53 alias record for ${alias}`);
      }
    }
    return out;
  },
};

// ---- point 12: least privilege and visibility ---------------------------------------------------

const isWorkloadRole = (r: PolicyResource) => statementsOf(r.args["assumeRolePolicy"]).some((s) => isObj(s.Principal) && s.Principal["Federated"] !== undefined);
const attachmentsOf = (rs: readonly PolicyResource[], role: PolicyResource) => ofType(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => refersTo(a, "role", role));

/** Issue 18.12: the load balancer controller runs with AWS's published policy; no workload role has a *FullAccess policy. */
export const loadBalancerControllerPolicy: StackPolicy = {
  name: "load-balancer-controller-published-policy",
  description: "The AWS Load Balancer Controller's role has exactly AWS's published policy (its tag conditions included) and no managed policy; no IRSA role has an AWS *FullAccess policy.",
  validateStack: (rs) => {
    const out: string[] = [];
    const lbc = IRSA_SERVICE_ACCOUNTS.loadBalancerController;
    for (const role of ofType(rs, "aws:iam/role:Role").filter(isWorkloadRole)) {
      for (const a of attachmentsOf(rs, role)) if (/FullAccess$/.test(String(a.args["policyArn"]))) out.push(`${role.name}: ${String(a.args["policyArn"])} on a workload role`);
      if (!trustedSubjects(role).includes(serviceAccountSubject(lbc))) continue;
      if (attachmentsOf(rs, role).length > 0) out.push(`${role.name}: the controller's role carries managed policies besides the published one`);
      const inline = ofType(rs, "aws:iam/rolePolicy:RolePolicy").filter((p) => refersTo(p, "role", role));
      const published = inline.some((p) => {
        try {
          return isDeepStrictEqual(typeof p.args["policy"] === "string" ? JSON.parse(p.args["policy"]) : p.args["policy"], JSON.parse(JSON.stringify(LBC_IAM_POLICY)));
        } catch {
          return false;
        }
      });
      if (!published) out.push(`${role.name}: the controller's policy is not AWS's published one`);
    }
    return out;
  },
};

/** Issue 18.12: the CNI's permissions sit on its own IRSA role, not on the nodes. */
export const cniPolicyOnIrsa: StackPolicy = {
  name: "cni-policy-on-irsa",
  description: "AmazonEKS_CNI_Policy is attached only to the IRSA role of kube-system/aws-node, which the vpc-cni add-on uses; never to the node role (every pod could use it).",
  validateStack: (rs) => {
    const out: string[] = [];
    const cni = ofType(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => String(a.args["policyArn"]).endsWith("/AmazonEKS_CNI_Policy"));
    for (const a of cni) {
      const role = ofType(rs, "aws:iam/role:Role").find((r) => refersTo(a, "role", r));
      if (!role || !trustedSubjects(role).includes(serviceAccountSubject(IRSA_SERVICE_ACCOUNTS.vpcCni))) out.push(`${a.name}: AmazonEKS_CNI_Policy on ${role?.name ?? String(a.args["role"])}, not on aws-node's IRSA role`);
    }
    for (const addon of ofType(rs, "aws:eks/addon:Addon").filter((x) => x.args["addonName"] === "vpc-cni")) {
      if (addon.args["serviceAccountRoleArn"] === undefined) out.push(`${addon.name}: vpc-cni runs on the node role's credentials (no serviceAccountRoleArn)`);
    }
    return out;
  },
};

/** Issue 18.12: nodes require IMDSv2 with a hop limit of 1, so pods cannot take the node role's credentials. */
export const nodesRequireImdsv2: StackPolicy = {
  name: "nodes-require-imdsv2",
  description: `Managed node groups use a launch template whose metadata options require IMDSv2 (httpTokens required) with httpPutResponseHopLimit ${NODE_METADATA_OPTIONS.httpPutResponseHopLimit}.`,
  validateStack: (rs) =>
    ofType(rs, "aws:eks/nodeGroup:NodeGroup").flatMap((ng) => {
      const lt = isObj(ng.args["launchTemplate"]) ? ng.args["launchTemplate"] : undefined;
      const template = lt ? ofType(rs, "aws:ec2/launchTemplate:LaunchTemplate").find((t) => linked(ng, "launchTemplate").includes(key(t)) || lt["id"] === `${t.name}-id` || lt["name"] === t.args["name"]) : undefined;
      if (!template) return [`${ng.name}: no launch template: the nodes accept IMDSv1 with the default hop limit`];
      const m = isObj(template.args["metadataOptions"]) ? template.args["metadataOptions"] : {};
      return m["httpTokens"] === "required" && Number(m["httpPutResponseHopLimit"]) === 1 ? [] : [`${template.name}: metadataOptions must require IMDSv2 with hop limit 1`];
    }),
};

/** Issue 18.12: VPC flow logs for on-call. */
export const vpcFlowLogs: StackPolicy = {
  name: "vpc-flow-logs",
  description: "Every VPC has a flow log of all traffic (ACCEPT and REJECT).",
  validateStack: (rs) =>
    ofType(rs, "aws:ec2/vpc:Vpc").flatMap((vpc) =>
      ofType(rs, "aws:ec2/flowLog:FlowLog").some((f) => refersTo(f, "vpcId", vpc) && f.args["trafficType"] === "ALL") ? [] : [`${vpc.name}: no flow log of all traffic`],
    ),
};

/** Issue 18.12: S3 server access logs, except on the buckets that receive them. */
export const s3AccessLogging: StackPolicy = {
  name: "s3-access-logging",
  description: "Every S3 bucket but the access-log buckets (tag purpose=access-logs) sends server access logs to one.",
  validateStack: (rs) => {
    const buckets = ofType(rs, "aws:s3/bucket:Bucket");
    const logBuckets = buckets.filter((b) => tagsOf(b)["purpose"] === "access-logs");
    return buckets
      .filter((b) => !logBuckets.includes(b))
      .flatMap((b) => {
        const logging = ofType(rs, "aws:s3/bucketLogging:BucketLogging").find((l) => refersTo(l, "bucket", b));
        if (!logging) return [`${b.name}: no server access logs`];
        return logBuckets.some((lb) => refersTo(logging, "targetBucket", lb)) ? [] : [`${logging.name}: logs to a bucket that is not an access-log bucket`];
      });
  },
};

/** The database secret a container's DATABASE_URL comes from, as "secret/key" (or "value" for a literal). */
function databaseUrlSource(c: Obj): string | undefined {
  const e = arr(c["env"]).filter(isObj).find((x) => x["name"] === "DATABASE_URL");
  if (!e) return undefined;
  const ref = isObj(e["valueFrom"]) && isObj(e["valueFrom"]["secretKeyRef"]) ? e["valueFrom"]["secretKeyRef"] : undefined;
  return ref ? `${String(ref["name"])}/${String(ref["key"])}` : "value";
}

/** Issue 18.12: components do not share one database login (the master user). */
export const databaseRolePerComponent: StackPolicy = {
  name: "database-role-per-component",
  description: "No two components (app.kubernetes.io/component) of the workloads read DATABASE_URL from the same secret key: each logs in as its own database role, and the master user's URL serves the role-creating Job alone.",
  validateStack: (rs) => {
    const users = new Map<string, Set<string>>();
    for (const r of rs) {
      const pod = podSpecOf(r.args);
      if (!pod) continue;
      const labels = isObj(meta(r)["labels"]) ? (meta(r)["labels"] as Obj) : {};
      const component = String(labels["app.kubernetes.io/component"] ?? labels["app.kubernetes.io/name"] ?? meta(r)["name"] ?? r.name);
      for (const c of containersOf(r)) {
        const source = databaseUrlSource(c);
        if (source === undefined) continue;
        users.set(source, new Set([...(users.get(source) ?? []), component]));
      }
    }
    return [...users.entries()].filter(([, comps]) => comps.size > 1).map(([source, comps]) => `${source} is the database login of ${[...comps].sort().join(", ")}: give each component its own role`);
  },
};

/** The container port a Service port's targetPort reaches in the pods its selector selects. */
function targetContainerPorts(service: PolicyResource, rs: readonly PolicyResource[], targetPort: unknown): number[] {
  if (typeof targetPort === "number") return [targetPort];
  const spec = isObj(service.args["spec"]) ? service.args["spec"] : {};
  const selector = isObj(spec["selector"]) ? spec["selector"] : {};
  const ns = meta(service)["namespace"];
  return rs.flatMap((r) => {
    const pod = podSpecOf(r.args);
    if (!pod || meta(r)["namespace"] !== ns) return [];
    const template = isObj(r.args["spec"]) && isObj(r.args["spec"]["template"]) ? (r.args["spec"]["template"] as Obj) : {};
    const labels = isObj(template["metadata"]) && isObj(template["metadata"]["labels"]) ? (template["metadata"]["labels"] as Obj) : {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return [];
    return containersOf(r).flatMap((c) => arr(c["ports"]).filter(isObj).filter((p) => p["name"] === targetPort).map((p) => Number(p["containerPort"])));
  });
}

/** Issue 17.5: the internet-facing Service targets the application port only; the metrics listener is never public. */
export const publicServicesAppPortOnly: StackPolicy = {
  name: "public-services-app-port-only",
  description: `LoadBalancer and NodePort Services target the application port ${APP_PORT} of their pods, never the metrics listener (${METRICS_PORT}).`,
  validateStack: (rs) =>
    rs
      .filter((r) => r.args["kind"] === "Service" && isObj(r.args["spec"]) && ["LoadBalancer", "NodePort"].includes(String(r.args["spec"]["type"])))
      .flatMap((svc) =>
        arr((svc.args["spec"] as Obj)["ports"])
          .filter(isObj)
          .flatMap((p) => {
            if (Number(p["port"]) === METRICS_PORT || p["targetPort"] === "metrics") return [`${svc.name}: exposes the metrics listener (${METRICS_PORT})`];
            const targets = targetContainerPorts(svc, rs, p["targetPort"] ?? p["port"]);
            if (targets.length === 0) return [`${svc.name}: port ${String(p["port"])} targets ${String(p["targetPort"])}, which no selected pod exposes`];
            return targets.every((t) => t === APP_PORT) ? [] : [`${svc.name}: port ${String(p["port"])} reaches container ports ${targets.join(", ")}, not only ${APP_PORT}`];
          }),
      ),
};

/** Issue 18.5: a read replica's lag is scraped (DatabaseReplicationUnhealthy reads aws_rds_replica_lag_maximum). */
export const replicaLagScraped: StackPolicy = {
  name: "replica-lag-scraped",
  description: "Every RDS read replica's ReplicaLag is in the CloudWatch exporter's configuration, so its lag is alerted.",
  validateStack: (rs) => {
    const replicas = ofType(rs, "aws:rds/instance:Instance").filter((i) => i.args["replicateSourceDb"] !== undefined);
    if (replicas.length === 0) return [];
    const exporters = ofType(rs, "kubernetes:helm.sh/v3:Release").filter((r) => r.args["chart"] === "prometheus-cloudwatch-exporter");
    if (exporters.length === 0) return []; // the other project of the environment scrapes
    const scraped = new Set(
      exporters.flatMap((e) => {
        try {
          const cfg = JSON.parse(String((e.args["values"] as Obj)["config"])) as { metrics?: { aws_metric_name?: string; aws_dimension_select?: { DBInstanceIdentifier?: string[] } }[] };
          return (cfg.metrics ?? []).filter((m) => m.aws_metric_name === "ReplicaLag").flatMap((m) => m.aws_dimension_select?.DBInstanceIdentifier ?? []);
        } catch {
          return [];
        }
      }),
    );
    return replicas.map((r) => String(r.args["identifier"] ?? r.name)).filter((id) => !scraped.has(id)).map((id) => `read replica ${id}: its ReplicaLag is not scraped, its lag is never alerted`);
  },
};

/** Stack policies of the pack, run over each project's stack. */
export const STACK_POLICIES: readonly StackPolicy[] = [
  clusterDeployPath,
  githubOidcTrustScoped,
  irsaTrustMatchesServiceAccount,
  rdsRestoreLeastPrivilege,
  dumpBucketReplicated,
  backupVaultsLocked,
  backupFailuresReachOnCall,
  backupLifecycleSupported,
  cloudfrontOnOwnDomain,
  loadBalancerControllerPolicy,
  cniPolicyOnIrsa,
  nodesRequireImdsv2,
  vpcFlowLogs,
  s3AccessLogging,
  databaseRolePerComponent,
  publicServicesAppPortOnly,
];

/** Policies that also judge an environment's two stacks together (the AWS stack's roles and replicas, the cluster stack's annotations and exporters). */
export const ENVIRONMENT_POLICIES: readonly StackPolicy[] = [irsaTrustMatchesServiceAccount, replicaLagScraped];

/** Every violation of the stack policies for one stack's resources, as "policy: message". */
export function stackViolations(resources: readonly PolicyResource[], policies: readonly StackPolicy[] = STACK_POLICIES): string[] {
  return policies.flatMap((p) => p.validateStack(resources).map((m) => `${p.name}: ${m}`));
}
