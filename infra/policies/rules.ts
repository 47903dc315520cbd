/**
 * Policy-as-code as plain functions over `{type, name, args}` (the shape of infra-plan.json and of
 * a policy pack's resource props), so they are unit-tested without the Pulumi CLI and run over
 * every resource of every stack in tests/infra. policies/pack wires them into a @pulumi/policy
 * PolicyPack for `pulumi preview --policy-pack`, over both projects (the AWS stack and the
 * cluster stack of an environment).
 *
 * Resource policies (this file) judge one resource; stack policies (stack-rules.ts) judge how a
 * stack's resources fit together (a role and the annotation naming it, a vault and its lock).
 */
import { OPS_COMMANDS } from "../../ops/commands.js";
import { APP_PORT, METRICS_PORT, WORKLOADS } from "../../model/workloads.js";
import { ECR_REPOSITORY_RE, PLACEHOLDER_ACCOUNT } from "../../model/stack-config.js";
import { CONTROL_PLANE_LOG_TYPES, DUMP_PREFIX, MIN_PUBLIC_ACCESS_PREFIX, NLB_TLS_POLICY, NLB_TLS_POLICY_ANNOTATION, OPS_TMP_SIZE_LIMIT, VPC_CNI_CONFIGURATION } from "../settings.js";

export interface PolicyResource {
  readonly type: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** The logical name of its explicit provider, if any (stack policies resolve regions through it). */
  readonly provider?: string;
  /** "type::name" of the resources each input property was computed from (a policy pack's propertyDependencies). */
  readonly propertyDependencies?: Record<string, string[]>;
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** Violation messages for one resource; empty when it complies. */
  readonly validate: (resource: PolicyResource) => string[];
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const tagsOf = (r: PolicyResource): Obj => (isObj(r.args["tags"]) ? r.args["tags"] : {});

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

const EKS_CLUSTER = "aws:eks/cluster:Cluster";

/** Issue 18.1/18.12: a public EKS endpoint admits only listed ranges, never 0.0.0.0/0; prod's endpoint is private. */
export const eksEndpointRestricted: Policy = {
  name: "eks-endpoint-restricted",
  description: `A public EKS API endpoint admits only listed ranges of /${MIN_PUBLIC_ACCESS_PREFIX} or narrower (EKS admits 0.0.0.0/0 when none are listed); prod's endpoint is private.`,
  validate: (r) => {
    if (r.type !== EKS_CLUSTER) return [];
    const vpc = isObj(r.args["vpcConfig"]) ? r.args["vpcConfig"] : {};
    if (vpc["endpointPublicAccess"] === false) return [];
    const out: string[] = [];
    if (tagsOf(r)["environment"] === "prod") out.push(`${r.name}: prod's Kubernetes API endpoint must be private (endpointPublicAccess: false)`);
    const cidrs = arr(vpc["publicAccessCidrs"]).map(String);
    if (cidrs.length === 0) out.push(`${r.name}: the public endpoint lists no publicAccessCidrs, so EKS admits 0.0.0.0/0`);
    for (const c of cidrs) if (Number(c.split("/")[1] ?? 0) < MIN_PUBLIC_ACCESS_PREFIX) out.push(`${r.name}: publicAccessCidrs ${c} is wider than /${MIN_PUBLIC_ACCESS_PREFIX}`);
    return out;
  },
};

/** Issue 18.12: the scheduler and controller manager logs are part of the control-plane logs. */
export const eksControlPlaneLogs: Policy = {
  name: "eks-control-plane-logs",
  description: `EKS clusters ship every control-plane log type (${CONTROL_PLANE_LOG_TYPES.join(", ")}).`,
  validate: (r) => {
    if (r.type !== EKS_CLUSTER) return [];
    const enabled = arr(r.args["enabledClusterLogTypes"]).map(String);
    const missing = CONTROL_PLANE_LOG_TYPES.filter((t) => !enabled.includes(t));
    return missing.length > 0 ? [`${r.name}: control-plane logs miss ${missing.join(", ")}`] : [];
  },
};

/** Issue 18.4: NetworkPolicies only take effect where the VPC CNI's network policy agent enforces them. */
export const networkPoliciesEnforced: Policy = {
  name: "network-policies-enforced",
  description: "The vpc-cni add-on enables network policy enforcement (configurationValues enableNetworkPolicy), or the cluster's NetworkPolicies are no-ops.",
  validate: (r) => {
    if (r.type !== "aws:eks/addon:Addon" || r.args["addonName"] !== "vpc-cni") return [];
    let values: unknown = r.args["configurationValues"];
    try {
      values = typeof values === "string" ? JSON.parse(values) : values;
    } catch {
      return [`${r.name}: configurationValues is not JSON`];
    }
    return isObj(values) && values["enableNetworkPolicy"] === VPC_CNI_CONFIGURATION.enableNetworkPolicy ? [] : [`${r.name}: vpc-cni does not set enableNetworkPolicy "true": no NetworkPolicy is enforced`];
  },
};

/** The containers of a Kubernetes workload's pod template (init containers included). */
export function containersOf(r: PolicyResource): Obj[] {
  if (!r.type.startsWith("kubernetes:") || !WORKLOAD_KINDS.includes(String(r.args["kind"]))) return [];
  const pod = podSpecOf(r.args);
  return pod ? [...arr(pod["initContainers"]), ...arr(pod["containers"])].filter(isObj) : [];
}

/** Issue 18.2: images come from a registry someone can push to, never AWS's documentation account. */
export const imagesFromRealRegistry: Policy = {
  name: "images-from-real-registry",
  description: `Workload images are pulled from an ECR repository of a real account (never ${PLACEHOLDER_ACCOUNT}, AWS's documentation placeholder).`,
  validate: (r) =>
    containersOf(r).flatMap((c) => {
      const image = String(c["image"] ?? "");
      const repo = image.replace(/[:@][^/]*$/, "");
      const m = ECR_REPOSITORY_RE.exec(repo);
      if (!m) return [`${r.name}/${String(c["name"])}: image ${image} is not from an ECR repository`];
      return m[1] === PLACEHOLDER_ACCOUNT ? [`${r.name}/${String(c["name"])}: image ${image} is in the placeholder account ${PLACEHOLDER_ACCOUNT}`] : [];
    }),
};

const OPS_IMAGE_RE = /-ops:[^/]+$/;
const COMMITTED_COMMANDS = Object.values(OPS_COMMANDS).map((c) => JSON.stringify(c));

/** Issue 11: the ops image runs the committed commands (ops/commands.ts), never scripts kept in a ConfigMap. */
export const opsJobsRunCommittedCommands: Policy = {
  name: "ops-jobs-run-committed-commands",
  description: "Containers of the ops image run one of OPS_COMMANDS (ops/commands.ts); no pod mounts scripts from a ConfigMap.",
  validate: (r) => {
    const out: string[] = [];
    for (const c of containersOf(r)) {
      if (!OPS_IMAGE_RE.test(String(c["image"] ?? ""))) continue;
      if (!COMMITTED_COMMANDS.includes(JSON.stringify(c["command"] ?? null))) out.push(`${r.name}/${String(c["name"])}: runs ${JSON.stringify(c["command"])}, not a committed ops command`);
    }
    const pod = podSpecOf(r.args);
    for (const v of arr(pod?.["volumes"]).filter(isObj)) {
      if (isObj(v["configMap"]) && containersOf(r).some((c) => OPS_IMAGE_RE.test(String(c["image"] ?? "")))) out.push(`${r.name}: mounts ConfigMap ${String(v["configMap"]["name"])} into an ops pod`);
    }
    return out;
  },
};

/** Bytes of a Kubernetes quantity such as 64Mi or 1Gi (binary and decimal suffixes). */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) return Number.POSITIVE_INFINITY;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

const DUMP_ENV = ["DATABASE_URL", "DUMP_BUCKET", "DUMP_PREFIX", "AWS_REGION"];

/** Issue 18.7: the 30-minute pg_dump streams to S3: the committed command, its env contract, no large scratch volume. */
export const dumpStreamsToS3: Policy = {
  name: "db-dump-streams-to-s3",
  description: `The ${WORKLOADS.backupCronJob} CronJob runs OPS_COMMANDS.dbBackup (pg_dump streamed to S3) with ${DUMP_ENV.join(", ")}, and no emptyDir above ${OPS_TMP_SIZE_LIMIT}.`,
  validate: (r) => {
    if (r.args["kind"] !== "CronJob" || !isObj(r.args["metadata"]) || r.args["metadata"]["name"] !== WORKLOADS.backupCronJob) return [];
    const out: string[] = [];
    const [c] = containersOf(r);
    if (!c || JSON.stringify(c["command"]) !== JSON.stringify(OPS_COMMANDS.dbBackup)) out.push(`${r.name}: does not run OPS_COMMANDS.dbBackup`);
    const env = new Map(arr(c?.["env"]).filter(isObj).map((e) => [String(e["name"]), e]));
    for (const k of DUMP_ENV) if (!env.has(k)) out.push(`${r.name}: missing env ${k}`);
    if (env.has("DUMP_PREFIX") && env.get("DUMP_PREFIX")!["value"] !== DUMP_PREFIX) out.push(`${r.name}: DUMP_PREFIX must be ${DUMP_PREFIX} (the prefix its role may write)`);
    for (const v of arr(podSpecOf(r.args)?.["volumes"]).filter(isObj)) {
      if (!isObj(v["emptyDir"])) continue;
      const limit = v["emptyDir"]["sizeLimit"];
      if (typeof limit !== "string" || quantityBytes(limit) > quantityBytes(OPS_TMP_SIZE_LIMIT)) out.push(`${r.name}: emptyDir ${String(v["name"])} of ${String(limit ?? "unbounded")} (the dump must stream, not land on disk)`);
    }
    return out;
  },
};

/** Issue 18.11: the API's TLS listener negotiates TLS 1.3/1.2 only. */
export const nlbTlsPolicy: Policy = {
  name: "nlb-tls-policy",
  description: `A LoadBalancer Service with a TLS certificate sets ${NLB_TLS_POLICY_ANNOTATION}: ${NLB_TLS_POLICY}.`,
  validate: (r) => {
    if (r.args["kind"] !== "Service" || !isObj(r.args["spec"]) || r.args["spec"]["type"] !== "LoadBalancer") return [];
    const annotations = isObj(r.args["metadata"]) && isObj(r.args["metadata"]["annotations"]) ? r.args["metadata"]["annotations"] : {};
    if (annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] === undefined) return [];
    return annotations[NLB_TLS_POLICY_ANNOTATION] === NLB_TLS_POLICY ? [] : [`${r.name}: TLS listener without ${NLB_TLS_POLICY_ANNOTATION}: ${NLB_TLS_POLICY} (the controller's default policy allows TLS 1.0/1.1)`];
  },
};

/** Issue 17.5: every application process serves its metrics on the metrics listener. */
export const podsDeclareMetricsPort: Policy = {
  name: "pods-declare-metrics-port",
  description: `Application containers (those with ROLES) set METRICS_PORT=${METRICS_PORT} and expose it as the \`metrics\` port, apart from the \`http\` port ${APP_PORT}.`,
  validate: (r) =>
    containersOf(r).flatMap((c) => {
      const env = arr(c["env"]).filter(isObj);
      if (!env.some((e) => e["name"] === "ROLES")) return [];
      const out: string[] = [];
      if (!env.some((e) => e["name"] === "METRICS_PORT" && e["value"] === String(METRICS_PORT))) out.push(`${r.name}/${String(c["name"])}: METRICS_PORT is not ${METRICS_PORT}`);
      const ports = arr(c["ports"]).filter(isObj);
      if (!ports.some((p) => p["name"] === "metrics" && Number(p["containerPort"]) === METRICS_PORT)) out.push(`${r.name}/${String(c["name"])}: no \`metrics\` port ${METRICS_PORT}`);
      if (!ports.some((p) => p["name"] === "http" && Number(p["containerPort"]) === APP_PORT)) out.push(`${r.name}/${String(c["name"])}: no \`http\` port ${APP_PORT}`);
      return out;
    }),
};

/** Issue 18.5: a standby's database follows its primary (a cross-region read replica), never a copy restored once. */
export const standbyDatabaseFollowsPrimary: Policy = {
  name: "standby-database-follows-primary",
  description: "A standby's database (tag dr-role=standby) is a cross-region read replica of the primary's (replicateSourceDb an RDS ARN) until promoted (tag dr-promoted=true), never restored once at create time.",
  validate: (r) => {
    if (r.type !== RDS_INSTANCE || tagsOf(r)["dr-role"] !== "standby") return [];
    if (r.args["restoreToPointInTime"] !== undefined) return [`${r.name}: restores once at create time (restoreToPointInTime is create-only): the standby would serve data frozen at its creation`];
    if (tagsOf(r)["dr-promoted"] === "true") return [];
    return /^arn:aws:rds:/.test(String(r.args["replicateSourceDb"] ?? "")) ? [] : [`${r.name}: a standby's database must replicate the primary's (replicateSourceDb = the primary's ARN)`];
  },
};

export const POLICIES: readonly Policy[] = [
  databasesEncrypted,
  databasesNotPublic,
  databaseBackups,
  bucketsPrivate,
  noOpenSecurityGroups,
  podsNonRootWithLimits,
  prodDeletionProtection,
  eksEndpointRestricted,
  eksControlPlaneLogs,
  networkPoliciesEnforced,
  imagesFromRealRegistry,
  opsJobsRunCommittedCommands,
  dumpStreamsToS3,
  nlbTlsPolicy,
  podsDeclareMetricsPort,
  standbyDatabaseFollowsPrimary,
];

/** Every violation of every resource policy for the given resources, as "policy: message". */
export function violations(resources: readonly PolicyResource[], policies: readonly Policy[] = POLICIES): string[] {
  return resources.flatMap((r) => policies.flatMap((p) => p.validate(r).map((m) => `${p.name}: ${m}`)));
}
