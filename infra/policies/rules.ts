/**
 * Policy-as-code as plain functions over `{type, name, args}` (the shape of infra-plan.json and of
 * a policy pack's resource props), so they are unit-tested without the Pulumi CLI and run over
 * every resource of every stack in tests/infra. policies/pack wires them into a @pulumi/policy
 * PolicyPack for `pulumi preview --policy-pack`.
 */

export interface PolicyResource {
  readonly type: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** Violation messages for one resource; empty when it complies. */
  readonly validate: (resource: PolicyResource) => string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const tagsOf = (r: PolicyResource): Obj => (isObj(r.args["tags"]) ? r.args["tags"] : {});

const RDS_INSTANCE = "aws:rds/instance:Instance";
const RDS_CLUSTER = "aws:rds/cluster:Cluster";
const MIN_BACKUP_RETENTION_DAYS = 30;
const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

export const databasesEncrypted: Policy = {
  name: "databases-encrypted",
  description: "RDS instances and clusters encrypt their storage.",
  validate: (r) => ((r.type === RDS_INSTANCE || r.type === RDS_CLUSTER) && r.args["storageEncrypted"] !== true ? [`${r.name}: storageEncrypted must be true`] : []),
};

export const databasesNotPublic: Policy = {
  name: "databases-not-public",
  description: "Databases and brokers are not publicly accessible.",
  validate: (r) =>
    (r.type === RDS_INSTANCE || r.type === "aws:mq/broker:Broker") && r.args["publiclyAccessible"] !== false ? [`${r.name}: publiclyAccessible must be false`] : [],
};

export const databaseBackups: Policy = {
  name: "database-backups-30-days",
  description: "Automated database backups and AWS Backup recovery points are kept at least 30 days; cold storage at least 90.",
  validate: (r) => {
    if (r.type === RDS_INSTANCE || r.type === RDS_CLUSTER) {
      // A read replica has no backups of its own; its source does.
      if (r.args["replicateSourceDb"] !== undefined) return [];
      const days = Number(r.args["backupRetentionPeriod"] ?? 0);
      return days >= MIN_BACKUP_RETENTION_DAYS ? [] : [`${r.name}: backupRetentionPeriod is ${days}, must be >= ${MIN_BACKUP_RETENTION_DAYS}`];
    }
    if (r.type === "aws:backup/plan:Plan") {
      const out: string[] = [];
      for (const rule of arr(r.args["rules"]).filter(isObj)) {
        const lifecycles = [rule["lifecycle"], ...arr(rule["copyActions"]).filter(isObj).map((c) => c["lifecycle"])].filter(isObj);
        for (const l of lifecycles) {
          const del = Number(l["deleteAfter"] ?? 0);
          if (del < MIN_BACKUP_RETENTION_DAYS) out.push(`${r.name}: rule ${String(rule["ruleName"])} deletes after ${del} days, must be >= ${MIN_BACKUP_RETENTION_DAYS}`);
          if (l["coldStorageAfter"] !== undefined && del < Number(l["coldStorageAfter"]) + 90) {
            out.push(`${r.name}: rule ${String(rule["ruleName"])} must keep cold storage at least 90 days (deleteAfter >= coldStorageAfter + 90)`);
          }
        }
        if (lifecycles.length === 0) out.push(`${r.name}: rule ${String(rule["ruleName"])} has no lifecycle`);
      }
      return out;
    }
    return [];
  },
};

const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
export const bucketsPrivate: Policy = {
  name: "buckets-private",
  description: "S3 buckets are private: no public ACL, public access fully blocked, no policy granting anonymous access.",
  validate: (r) => {
    if (r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketAcl:BucketAcl") {
      const acl = String(r.args["acl"] ?? "private");
      return PUBLIC_ACLS.includes(acl) ? [`${r.name}: acl ${acl} is public`] : [];
    }
    if (r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") {
      return ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].filter((k) => r.args[k] !== true).map((k) => `${r.name}: ${k} must be true`);
    }
    if (r.type === "aws:s3/bucketPolicy:BucketPolicy") {
      let doc: unknown = r.args["policy"];
      if (typeof doc === "string") {
        try {
          doc = JSON.parse(doc);
        } catch {
          return [`${r.name}: policy is not valid JSON`];
        }
      }
      const statements = isObj(doc) ? arr(doc["Statement"]).filter(isObj) : [];
      return statements
        .filter((s) => s["Effect"] === "Allow" && (s["Principal"] === "*" || (isObj(s["Principal"]) && (s["Principal"]["AWS"] === "*" || arr(s["Principal"]["AWS"]).includes("*")))))
        .map((s) => `${r.name}: statement ${String(s["Sid"] ?? "")} allows anonymous access`);
    }
    return [];
  },
};

/** True for the single exception: TCP 443 on a load balancer's security group (tag purpose=load-balancer). */
function isLoadBalancerHttps(rule: Obj, tags: Obj): boolean {
  const proto = String(rule["ipProtocol"] ?? rule["protocol"] ?? "");
  return tags["purpose"] === "load-balancer" && (proto === "tcp" || proto === "6") && Number(rule["fromPort"]) === 443 && Number(rule["toPort"]) === 443;
}

export const noOpenSecurityGroups: Policy = {
  name: "no-open-security-groups",
  description: "No security group admits 0.0.0.0/0 or ::/0, except TCP 443 on the load balancer's.",
  validate: (r) => {
    const tags = tagsOf(r);
    const open = (rule: Obj) =>
      [...arr(rule["cidrBlocks"]), ...arr(rule["ipv6CidrBlocks"]), rule["cidrIpv4"], rule["cidrIpv6"]].some((c) => typeof c === "string" && OPEN_CIDRS.includes(c));
    if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
      return arr(r.args["ingress"])
        .filter(isObj)
        .filter((rule) => open(rule) && !isLoadBalancerHttps(rule, tags))
        .map((rule) => `${r.name}: ingress ${String(rule["fromPort"])}-${String(rule["toPort"])} is open to the internet`);
    }
    if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" || (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && r.args["type"] === "ingress")) {
      return open(r.args) && !isLoadBalancerHttps(r.args, tags) ? [`${r.name}: ingress ${String(r.args["fromPort"])}-${String(r.args["toPort"])} is open to the internet`] : [];
    }
    return [];
  },
};

const WORKLOAD_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Rollout"];

/** The pod spec inside a Kubernetes workload's args, whatever its kind. */
export function podSpecOf(args: Obj): Obj | undefined {
  const spec = isObj(args["spec"]) ? args["spec"] : undefined;
  if (!spec) return undefined;
  if (args["kind"] === "Pod") return spec;
  if (args["kind"] === "CronJob") {
    const job = isObj(spec["jobTemplate"]) && isObj(spec["jobTemplate"]["spec"]) ? spec["jobTemplate"]["spec"] : undefined;
    return job && isObj(job["template"]) && isObj(job["template"]["spec"]) ? job["template"]["spec"] : undefined;
  }
  return isObj(spec["template"]) && isObj(spec["template"]["spec"]) ? spec["template"]["spec"] : undefined;
}

export const podsNonRootWithLimits: Policy = {
  name: "pods-non-root-with-limits",
  description: "Pods run as non-root and every container has CPU and memory limits.",
  validate: (r) => {
    if (!r.type.startsWith("kubernetes:") || !WORKLOAD_KINDS.includes(String(r.args["kind"]))) return [];
    const pod = podSpecOf(r.args);
    if (!pod) return [`${r.name}: no pod template`];
    const podNonRoot = isObj(pod["securityContext"]) && pod["securityContext"]["runAsNonRoot"] === true;
    const out: string[] = [];
    for (const c of [...arr(pod["initContainers"]), ...arr(pod["containers"])].filter(isObj)) {
      const sc = isObj(c["securityContext"]) ? c["securityContext"] : {};
      if (sc["runAsNonRoot"] === false || (!podNonRoot && sc["runAsNonRoot"] !== true)) out.push(`${r.name}/${String(c["name"])}: must run as non-root (runAsNonRoot)`);
      if (sc["runAsUser"] === 0) out.push(`${r.name}/${String(c["name"])}: runAsUser 0 is root`);
      const limits = isObj(c["resources"]) && isObj(c["resources"]["limits"]) ? c["resources"]["limits"] : {};
      for (const k of ["cpu", "memory"]) if (limits[k] === undefined) out.push(`${r.name}/${String(c["name"])}: missing ${k} limit`);
    }
    if (isObj(pod["securityContext"]) && pod["securityContext"]["runAsUser"] === 0) out.push(`${r.name}: pod runAsUser 0 is root`);
    return out;
  },
};

export const prodDeletionProtection: Policy = {
  name: "prod-deletion-protection",
  description: "Production databases have deletion protection.",
  validate: (r) => ((r.type === RDS_INSTANCE || r.type === RDS_CLUSTER) && tagsOf(r)["environment"] === "prod" && r.args["deletionProtection"] !== true ? [`${r.name}: prod database needs deletionProtection`] : []),
};

export const POLICIES: readonly Policy[] = [databasesEncrypted, databasesNotPublic, databaseBackups, bucketsPrivate, noOpenSecurityGroups, podsNonRootWithLimits, prodDeletionProtection];

/** Every violation of every policy for the given resources, as "policy: message". */
export function violations(resources: readonly PolicyResource[], policies: readonly Policy[] = POLICIES): string[] {
  return resources.flatMap((r) => policies.flatMap((p) => p.validate(r).map((m) => `${p.name}: ${m}`)));
}
