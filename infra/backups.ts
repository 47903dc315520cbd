/**
 * AWS Backup: a KMS-encrypted vault and a plan with two rules. Daily recovery points are kept 30
 * days, weekly ones a year, all in warm storage: AWS Backup has no cold storage for RDS snapshots
 * (the config validator rejects a cold-storage setting), so that is what the backups cost, and each
 * recovery point carries its storage class and retention as tags. Each recovery point is copied to
 * a vault in the second region. The selection covers the database (not a standby's replica, which
 * cannot be backed up until it is promoted).
 *
 * Recovery points cannot be deleted early: every vault has a Vault Lock (governance mode outside
 * prod, compliance mode in prod, min/max retention = the plan's shortest and longest lifecycle) and
 * an access policy that denies DeleteRecoveryPoint to everyone.
 *
 * Failed, aborted and expired backup, copy and restore jobs go to an encrypted SNS topic through
 * EventBridge, and failed copies through the vault's notifications (only events the AWS Backup API
 * reference lists as current). The topic reaches on-call: PagerDuty's Amazon CloudWatch/SNS
 * integration where the stack pages (prod, prod-dr), and email. The CloudWatch exporter
 * (infra/cluster/monitoring.ts) turns AWS/Backup metrics into the BackupFailed alert as well.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { assumeRolePolicy, policyDocument } from "./iam.js";
import { BACKED_UP_RESOURCE_TYPES } from "./config.js";
import { COMPLIANCE_GRACE_DAYS, CURRENT_VAULT_EVENTS } from "./settings.js";

export { COMPLIANCE_GRACE_DAYS, CURRENT_VAULT_EVENTS };

export interface BackupsArgs {
  /** ARNs of the resources the plan backs up (the RDS instance); none on an unpromoted standby. */
  readonly resourceArns: pulumi.Input<string>[];
  /** Where backup failures go. */
  readonly onCall: {
    /** An address on-call reads (the environment's alert digest address). */
    readonly email: string;
    /** PagerDuty's Amazon CloudWatch integration URL (secret), where the environment pages. */
    readonly pagerdutyEndpoint?: pulumi.Input<string>;
  };
}

export interface Backups {
  readonly vaultName: pulumi.Output<string>;
  readonly planId: pulumi.Output<string>;
  readonly failureTopicArn: pulumi.Output<string>;
  readonly secondaryVaultArn?: pulumi.Output<string>;
  /** What the recovery points are and cost: one row per rule (rendered as the backupStorage output). */
  readonly storage: BackupStorageRow[];
}

export interface BackupStorageRow {
  readonly rule: string;
  readonly resourceTypes: readonly string[];
  readonly schedule: string;
  readonly storageClass: "warm";
  readonly retentionDays: number;
  readonly copiedTo?: string;
}

/** Daily at 05:00 UTC: after the RDS backup window (03:00-03:30) and the Sunday maintenance window. */
export const DAILY_SCHEDULE = "cron(0 5 ? * * *)";
/** Weekly on Saturday 05:30 UTC, away from Sunday's maintenance. */
export const WEEKLY_SCHEDULE = "cron(30 5 ? * SAT *)";

/** What the vault notifies: failed copies (failed backups and restores come through EventBridge). */
export const VAULT_FAILURE_EVENTS = ["COPY_JOB_FAILED"] as const satisfies readonly (typeof CURRENT_VAULT_EVENTS)[number][];


/**
 * The vault access policy: nobody deletes a recovery point or shortens its lifecycle; AWS Backup
 * still expires them at the end of their lifecycle. As the "Deny access to delete recovery points"
 * example of the AWS Backup vault access policies guide.
 */
export function vaultAccessPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "DenyDeletingRecoveryPoints", Effect: "Deny", Principal: { AWS: "*" }, Action: ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"], Resource: "*" }],
  });
}

function lockVault(ctx: PlatformContext, name: string, vault: aws.backup.Vault, retention: { min: number; max: number }, provider: aws.Provider): void {
  const compliance = ctx.cfg.environment === "prod";
  new aws.backup.VaultLockConfiguration(
    name,
    { backupVaultName: vault.name, minRetentionDays: retention.min, maxRetentionDays: retention.max, ...(compliance ? { changeableForDays: COMPLIANCE_GRACE_DAYS } : {}) },
    { provider },
  );
  new aws.backup.VaultPolicy(name, { backupVaultName: vault.name, policy: vaultAccessPolicy() }, { provider });
}

export function backups(ctx: PlatformContext, args: BackupsArgs): Backups {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const b = cfg.backup;
  const retention = { min: Math.min(b.dailyRetentionDays, b.weeklyRetentionDays), max: Math.max(b.dailyRetentionDays, b.weeklyRetentionDays) };

  const key = new aws.kms.Key(`${prefix}-backup-key`, { description: `${prefix} AWS Backup vault`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "backup-key") }, opts);
  const vault = new aws.backup.Vault(`${prefix}-vault`, { kmsKeyArn: key.arn, tags: tags(ctx, "backup-vault") }, opts);
  lockVault(ctx, `${prefix}-vault`, vault, retention, ctx.aws);

  let secondaryVault: aws.backup.Vault | undefined;
  if (b.copyToSecondaryRegion) {
    const secondaryOpts = { provider: ctx.awsSecondary };
    const secondaryKey = new aws.kms.Key(
      `${prefix}-backup-key-${cfg.secondaryRegion}`,
      { description: `${prefix} AWS Backup copies in ${cfg.secondaryRegion}`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "backup-key-secondary") },
      secondaryOpts,
    );
    secondaryVault = new aws.backup.Vault(`${prefix}-vault-${cfg.secondaryRegion}`, { kmsKeyArn: secondaryKey.arn, tags: tags(ctx, "backup-vault-secondary") }, secondaryOpts);
    lockVault(ctx, `${prefix}-vault-${cfg.secondaryRegion}`, secondaryVault, retention, ctx.awsSecondary);
  }

  const storage = (rule: string, schedule: string, days: number): BackupStorageRow => ({
    rule,
    resourceTypes: BACKED_UP_RESOURCE_TYPES,
    schedule,
    storageClass: "warm",
    retentionDays: days,
    ...(b.copyToSecondaryRegion ? { copiedTo: cfg.secondaryRegion } : {}),
  });
  const rows = [storage("daily", DAILY_SCHEDULE, b.dailyRetentionDays), storage("weekly", WEEKLY_SCHEDULE, b.weeklyRetentionDays)];
  const copy = (lifecycle: { deleteAfter: number }) => (secondaryVault ? { copyActions: [{ destinationVaultArn: secondaryVault.arn, lifecycle }] } : {});
  const pointTags = (row: BackupStorageRow) => tags(ctx, row.rule, { "storage-class": row.storageClass, "retention-days": String(row.retentionDays) });

  const plan = new aws.backup.Plan(
    `${prefix}-plan`,
    {
      rules: rows.map((row) => ({
        ruleName: row.rule,
        targetVaultName: vault.name,
        schedule: row.schedule,
        startWindow: 60,
        completionWindow: row.rule === "daily" ? 360 : 720,
        lifecycle: { deleteAfter: row.retentionDays },
        ...copy({ deleteAfter: row.retentionDays }),
        recoveryPointTags: pointTags(row),
      })),
      tags: tags(ctx, "backup-plan"),
    },
    opts,
  );

  const role = new aws.iam.Role(`${prefix}-backup`, { assumeRolePolicy: assumeRolePolicy("backup.amazonaws.com"), tags: tags(ctx, "backup-role") }, opts);
  for (const policy of ["service-role/AWSBackupServiceRolePolicyForBackup", "service-role/AWSBackupServiceRolePolicyForRestores"]) {
    new aws.iam.RolePolicyAttachment(`${prefix}-backup-${policy.split("/").pop()}`, { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }, opts);
  }
  if (args.resourceArns.length > 0) new aws.backup.Selection(`${prefix}-database`, { planId: plan.id, iamRoleArn: role.arn, resources: args.resourceArns }, opts);

  const topic = failureTopic(ctx, vault, args.onCall);
  return {
    vaultName: vault.name,
    planId: plan.id,
    failureTopicArn: topic,
    ...(secondaryVault ? { secondaryVaultArn: secondaryVault.arn } : {}),
    storage: rows,
  };
}

/**
 * The backup-failure topic, encrypted with a key EventBridge and AWS Backup may use (the AWS-managed
 * aws/sns key admits neither), fed by an EventBridge rule and the vault's notifications, and
 * subscribed by on-call.
 */
function failureTopic(ctx: PlatformContext, vault: aws.backup.Vault, onCall: BackupsArgs["onCall"]): pulumi.Output<string> {
  const { prefix } = ctx;
  const opts = { provider: ctx.aws };
  const key = new aws.kms.Key(
    `${prefix}-backup-failures`,
    {
      description: `${prefix} backup-failure notifications`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyDocument([
        { Sid: "AccountAdministers", Principal: { AWS: pulumi.interpolate`arn:aws:iam::${ctx.accountId}:root` }, Action: ["kms:*"], Resource: "*" },
        // What the SNS developer guide's "encrypted topic as an EventBridge target" and the AWS Backup
        // notifications guide give the publishing services on the topic's key.
        { Sid: "PublishersEncrypt", Principal: { Service: ["events.amazonaws.com", "backup.amazonaws.com"] }, Action: ["kms:GenerateDataKey*", "kms:Decrypt"], Resource: "*" },
      ]),
      tags: tags(ctx, "backup-failures-key"),
    },
    opts,
  );
  const topic = new aws.sns.Topic(`${prefix}-backup-failures`, { kmsMasterKeyId: key.arn, tags: tags(ctx, "backup-failures") }, opts);
  const rule = new aws.cloudwatch.EventRule(
    `${prefix}-backup-failed`,
    {
      description: "AWS Backup, copy and restore jobs that failed, aborted or expired",
      eventPattern: JSON.stringify({
        source: ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change", "Restore Job State Change"],
        detail: { state: ["FAILED", "ABORTED", "EXPIRED"] },
      }),
      tags: tags(ctx, "backup-failed-rule"),
    },
    opts,
  );
  new aws.cloudwatch.EventTarget(`${prefix}-backup-failed`, { rule: rule.name, arn: topic.arn }, opts);
  new aws.sns.TopicPolicy(
    `${prefix}-backup-failures`,
    {
      arn: topic.arn,
      policy: policyDocument([
        { Sid: "EventBridge", Principal: { Service: "events.amazonaws.com" }, Action: ["sns:Publish"], Resource: [topic.arn], Condition: { ArnEquals: { "aws:SourceArn": rule.arn } } },
        { Sid: "AwsBackup", Principal: { Service: "backup.amazonaws.com" }, Action: ["sns:Publish"], Resource: [topic.arn] },
      ]),
    },
    opts,
  );
  new aws.backup.VaultNotifications(`${prefix}-vault`, { backupVaultName: vault.name, snsTopicArn: topic.arn, backupVaultEvents: [...VAULT_FAILURE_EVENTS] }, opts);
  // On-call: email (confirmed once by its recipient), and PagerDuty where the environment pages
  // (PagerDuty's Amazon CloudWatch integration confirms the SNS subscription by itself).
  new aws.sns.TopicSubscription(`${prefix}-backup-failures-email`, { topic: topic.arn, protocol: "email", endpoint: onCall.email }, opts);
  if (onCall.pagerdutyEndpoint !== undefined) {
    new aws.sns.TopicSubscription(`${prefix}-backup-failures-pagerduty`, { topic: topic.arn, protocol: "https", endpoint: onCall.pagerdutyEndpoint, endpointAutoConfirms: true }, opts);
  }
  return topic.arn;
}
