/**
 * Settings that a component applies and a policy (infra/policies) checks: plain constants, no
 * Pulumi imports, so the policy pack and both projects read the same values.
 */

/** Every EKS control-plane log type (CIS EKS 2.1.1): the scheduler and controller manager included. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/**
 * The VPC CNI add-on's configuration: network policy enforcement through its node agent (the
 * NetworkPolicies of the cluster project are no-ops without it). The key and its string value are
 * the add-on's configuration schema, as in "Configure your cluster for Kubernetes network policies"
 * (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html):
 * `--configuration-values '{"enableNetworkPolicy": "true"}'`.
 */
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;

/** The node launch template's instance metadata options: IMDSv2 only, and no second hop (containers). */
export const NODE_METADATA_OPTIONS = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" } as const;

/** The smallest prefix length a public EKS endpoint may admit (re-exported from the config schema's rule). */
export { MIN_PUBLIC_ACCESS_PREFIX } from "../model/stack-config.js";

/**
 * Vault notification events that AWS Backup still emits. The PutBackupVaultNotifications reference
 * lists BACKUP_JOB_FAILED, RESTORE_JOB_FAILED, BACKUP_JOB_SUCCESSFUL, BACKUP_JOB_EXPIRED,
 * RESTORE_JOB_SUCCESSFUL, BACKUP_PLAN_CREATED and BACKUP_PLAN_MODIFIED as deprecated: they never fire.
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultNotifications.html)
 */
export const CURRENT_VAULT_EVENTS = [
  "BACKUP_JOB_STARTED", "BACKUP_JOB_COMPLETED", "COPY_JOB_STARTED", "COPY_JOB_SUCCESSFUL", "COPY_JOB_FAILED",
  "RESTORE_JOB_STARTED", "RESTORE_JOB_COMPLETED", "RECOVERY_POINT_MODIFIED", "S3_BACKUP_OBJECT_FAILED", "S3_RESTORE_OBJECT_FAILED",
] as const;

/** Compliance-mode vault locks become immutable after this grace period (AWS Backup's minimum is 3 days). */
export const COMPLIANCE_GRACE_DAYS = 3;

/** The TLS negotiation policy of the API's NLB listener: TLS 1.3 and 1.2 only (the controller's default allows TLS 1.0). */
export const NLB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** The Service annotation that sets it (AWS Load Balancer Controller, Service annotations: TLS). */
export const NLB_TLS_POLICY_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy";

/** CloudFront reads viewer certificates only from ACM in us-east-1. */
export const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";
/** TLS 1.2 and later, with the 2021 cipher set (CloudFront's recommended security policy). */
export const CLOUDFRONT_MINIMUM_PROTOCOL = "TLSv1.2_2021";

export { DUMP_PREFIX } from "../model/workloads.js";

/**
 * The only writable path of an ops pod (the root filesystem is read-only): a small /tmp for the tsx
 * loader's compile cache. Nothing large is written to disk: the database dump streams to S3.
 */
export const OPS_TMP_SIZE_LIMIT = "64Mi";

/** GitHub Actions' OIDC issuer host: the prefix of its IAM condition keys (`<host>:sub`, `<host>:aud`). */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
/** The audience GitHub's token carries for AWS (aws-actions/configure-aws-credentials). */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";
/** The AWS managed policy a pull-request role (`<env>-preview`) starts from; its inline policy fences it. */
export const READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
