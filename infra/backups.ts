/**
 * AWS Backup: a KMS-encrypted vault and a plan with two rules. Daily recovery points are kept 30
 * days; weekly ones a year, moved to cold storage after `weeklyColdStorageAfterDays` (config.ts
 * enforces deleteAfter >= coldStorageAfter + 90, AWS Backup's cold-storage minimum). Each recovery
 * point is copied to a vault in the second region. The selection covers the database. Failed and
 * aborted backup/copy jobs go to an SNS topic through EventBridge and vault notifications; the
 * CloudWatch exporter (monitoring.ts) turns AWS/Backup metrics into Prometheus alerts.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { assumeRolePolicy, policyDocument } from "./cluster.js";

export interface BackupsArgs {
  /** ARNs of the resources the plan backs up (the RDS instance). */
  readonly resourceArns: pulumi.Input<string>[];
}

export interface Backups {
  readonly vaultName: pulumi.Output<string>;
  readonly planId: pulumi.Output<string>;
  readonly failureTopicArn: pulumi.Output<string>;
  readonly secondaryVaultArn?: pulumi.Output<string>;
}

/** Daily at 05:00 UTC: after the RDS backup window (03:00-03:30) and the Sunday maintenance window. */
export const DAILY_SCHEDULE = "cron(0 5 ? * * *)";
/** Weekly on Saturday 05:30 UTC, away from Sunday's maintenance. */
export const WEEKLY_SCHEDULE = "cron(30 5 ? * SAT *)";

export function backups(ctx: PlatformContext, args: BackupsArgs): Backups {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const b = cfg.backup;

  const key = new aws.kms.Key(`${prefix}-backup-key`, { description: `${prefix} AWS Backup vault`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "backup-key") }, opts);
  const vault = new aws.backup.Vault(`${prefix}-vault`, { kmsKeyArn: key.arn, tags: tags(ctx, "backup-vault") }, opts);

  let secondaryVault: aws.backup.Vault | undefined;
  if (b.copyToSecondaryRegion) {
    const secondaryOpts = { provider: ctx.awsSecondary };
    const secondaryKey = new aws.kms.Key(
      `${prefix}-backup-key-${cfg.secondaryRegion}`,
      { description: `${prefix} AWS Backup copies in ${cfg.secondaryRegion}`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "backup-key-secondary") },
      secondaryOpts,
    );
    secondaryVault = new aws.backup.Vault(`${prefix}-vault-${cfg.secondaryRegion}`, { kmsKeyArn: secondaryKey.arn, tags: tags(ctx, "backup-vault-secondary") }, secondaryOpts);
  }

  const daily = { deleteAfter: b.dailyRetentionDays };
  const weekly = { coldStorageAfter: b.weeklyColdStorageAfterDays, deleteAfter: b.weeklyRetentionDays, optInToArchiveForSupportedResources: true };
  const copy = (lifecycle: { deleteAfter: number; coldStorageAfter?: number }) =>
    secondaryVault ? { copyActions: [{ destinationVaultArn: secondaryVault.arn, lifecycle }] } : {};

  const plan = new aws.backup.Plan(
    `${prefix}-plan`,
    {
      rules: [
        { ruleName: "daily", targetVaultName: vault.name, schedule: DAILY_SCHEDULE, startWindow: 60, completionWindow: 360, lifecycle: daily, ...copy(daily), recoveryPointTags: tags(ctx, "daily") },
        {
          ruleName: "weekly",
          targetVaultName: vault.name,
          schedule: WEEKLY_SCHEDULE,
          startWindow: 60,
          completionWindow: 720,
          lifecycle: weekly,
          ...copy({ coldStorageAfter: weekly.coldStorageAfter, deleteAfter: weekly.deleteAfter }),
          recoveryPointTags: tags(ctx, "weekly"),
        },
      ],
      tags: tags(ctx, "backup-plan"),
    },
    opts,
  );

  const role = new aws.iam.Role(`${prefix}-backup`, { assumeRolePolicy: assumeRolePolicy("backup.amazonaws.com"), tags: tags(ctx, "backup-role") }, opts);
  for (const policy of ["service-role/AWSBackupServiceRolePolicyForBackup", "service-role/AWSBackupServiceRolePolicyForRestores"]) {
    new aws.iam.RolePolicyAttachment(`${prefix}-backup-${policy.split("/").pop()}`, { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }, opts);
  }
  new aws.backup.Selection(`${prefix}-database`, { planId: plan.id, iamRoleArn: role.arn, resources: args.resourceArns }, opts);

  // Failures: EventBridge (job state changes) and vault notifications to one SNS topic.
  const topic = new aws.sns.Topic(`${prefix}-backup-failures`, { tags: tags(ctx, "backup-failures") }, opts);
  const rule = new aws.cloudwatch.EventRule(
    `${prefix}-backup-failed`,
    {
      description: "AWS Backup and copy jobs that failed, aborted or expired",
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
  new aws.backup.VaultNotifications(
    `${prefix}-vault`,
    { backupVaultName: vault.name, snsTopicArn: topic.arn, backupVaultEvents: ["BACKUP_JOB_FAILED", "COPY_JOB_FAILED", "RESTORE_JOB_FAILED"] },
    opts,
  );

  return {
    vaultName: vault.name,
    planId: plan.id,
    failureTopicArn: topic.arn,
    ...(secondaryVault ? { secondaryVaultArn: secondaryVault.arn } : {}),
  };
}
