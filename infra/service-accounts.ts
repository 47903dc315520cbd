/**
 * The Kubernetes service accounts that get AWS credentials (IRSA), one IAM role each: the AWS
 * project creates the roles (infra/iam-roles.ts) with a trust condition on exactly that service
 * account, and the cluster project annotates exactly that service account with its role's ARN
 * (read from the AWS stack's `irsaRoleArns` output by the same key). Both read this table, so a
 * service account cannot be given another one's role; the `irsa-trust-matches-service-account`
 * policy checks the rendered result.
 *
 * Service accounts that call no AWS API (worker, migrate, db-roles, digest) have no
 * role and no annotation: with IMDSv2 at hop limit 1 on the nodes (cluster.ts), their pods get no
 * AWS credentials at all.
 */
import { PRODUCT_NAMESPACE } from "../model/workloads.js";

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

export const MONITORING_NAMESPACE = "monitoring";

export const IRSA_SERVICE_ACCOUNTS = {
  api: { namespace: PRODUCT_NAMESPACE, name: "api" },
  imageWorker: { namespace: PRODUCT_NAMESPACE, name: "worker-image" },
  /** The scheduler role runs the image garbage collector (services/pipeline/image-gc.ts): list and delete image objects. */
  scheduler: { namespace: PRODUCT_NAMESPACE, name: "scheduler" },
  dbBackup: { namespace: PRODUCT_NAMESPACE, name: "db-backup" },
  restoreDrill: { namespace: PRODUCT_NAMESPACE, name: "restore-drill" },
  cloudwatchExporter: { namespace: MONITORING_NAMESPACE, name: "cloudwatch-exporter" },
  loadBalancerController: { namespace: "kube-system", name: "aws-load-balancer-controller" },
  /** The EBS CSI driver's controller (EKS add-on aws-ebs-csi-driver). */
  ebsCsi: { namespace: "kube-system", name: "ebs-csi-controller-sa" },
  /** The VPC CNI's DaemonSet (EKS add-on vpc-cni): AmazonEKS_CNI_Policy here, not on the node role. */
  vpcCni: { namespace: "kube-system", name: "aws-node" },
} as const satisfies Record<string, ServiceAccountRef>;

export type IrsaServiceAccount = keyof typeof IRSA_SERVICE_ACCOUNTS;

/**
 * Every service account of the product namespace (infra/cluster/workloads.ts creates them); those
 * with an entry in IRSA_SERVICE_ACCOUNTS are annotated with their role, the others get no AWS access.
 * Giving one AWS access is one entry in IRSA_SERVICE_ACCOUNTS and its policy in infra/iam-roles.ts.
 */
export const PRODUCT_SERVICE_ACCOUNTS = ["api", "worker", "worker-image", "scheduler", "migrate", "db-roles", "db-backup", "restore-drill"] as const;

/** The IRSA entry of a service account, if it has one. */
export function irsaServiceAccount(namespace: string, name: string): ServiceAccountRef | undefined {
  return Object.values(IRSA_SERVICE_ACCOUNTS).find((sa) => sa.namespace === namespace && sa.name === name);
}

/** The key of a service account in the AWS stack's irsaRoleArns output: "<namespace>/<name>". */
export function serviceAccountKey(sa: ServiceAccountRef): string {
  return `${sa.namespace}/${sa.name}`;
}

/** The subject an IRSA trust policy admits for a service account (the web identity token's `sub`). */
export function serviceAccountSubject(sa: ServiceAccountRef): string {
  return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

/**
 * The IAM role name of a service account's IRSA role: `<env>-irsa-<namespace>-<name>`, so the role
 * an annotation names shows whose it is (the cluster project's policy checks the suffix). IAM role
 * names are at most 64 characters.
 */
export function irsaRoleName(prefix: string, sa: ServiceAccountRef): string {
  const name = `${prefix}-irsa-${sa.namespace}-${sa.name}`;
  if (name.length > 64) throw new Error(`IRSA role name ${name} is longer than IAM's 64 characters`);
  return name;
}

/** The annotation that binds a service account to its IRSA role. */
export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";
