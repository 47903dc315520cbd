/**
 * The IRSA roles of the workloads and cluster operators, one per service account
 * (service-accounts.ts), each with only what its pods call:
 * - api: read and write product images;
 * - worker-image: read, write and delete product images;
 * - scheduler: list and delete product images (the image GC), nothing else;
 * - db-backup: write the pg_dump stream under the dump prefix and read back what it wrote;
 * - restore-drill: restore a point-in-time copy of this stack's database into an instance named
 *   `<db>-drill-*`, tag, describe and delete only those, and use the database's KMS key for it;
 * - cloudwatch-exporter: read CloudWatch metrics;
 * - aws-load-balancer-controller: AWS's published controller policy (lbc-iam-policy.ts).
 * The add-ons' roles (VPC CNI, EBS CSI) are created with the cluster (cluster.ts).
 */
import { IMAGE_KEY_PREFIX } from "../model/workloads.js";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DUMP_PREFIX } from "./settings.js";
import type { PlatformContext } from "./context.js";
import { irsaRole } from "./cluster.js";
import type { Cluster } from "./cluster.js";
import { policyDocument } from "./iam.js";
import { LBC_IAM_POLICY } from "./lbc-iam-policy.js";
import { IRSA_SERVICE_ACCOUNTS, serviceAccountKey } from "./service-accounts.js";
import type { IrsaServiceAccount } from "./service-accounts.js";

export interface WorkloadRolesArgs {
  readonly images: { arn: pulumi.Input<string> };
  readonly dumps: { arn: pulumi.Input<string>; keyArn: pulumi.Input<string> };
  readonly database: { identifier: string; kmsKeyArn: pulumi.Input<string>; subnetGroupName: pulumi.Input<string> };
}

/** The tag the restore drill puts on the instances it restores, and the only ones it may delete. */
export const RESTORE_DRILL_TAG = { key: "purpose", value: "restore-drill" } as const;

/** The identifier pattern of the restore drill's instances: `<source>-drill-<stamp>`. */
export function drillInstancePattern(source: string): string {
  return `${source}-drill-*`;
}

export function workloadRoles(ctx: PlatformContext, eks: Cluster, args: WorkloadRolesArgs): Record<IrsaServiceAccount, pulumi.Output<string>> {
  const { cfg } = ctx;
  const rdsArn = (kind: string, name: pulumi.Input<string>) => pulumi.interpolate`arn:aws:rds:${cfg.region}:${ctx.accountId}:${kind}:${name}`;
  const source = rdsArn("db", args.database.identifier);
  const drill = rdsArn("db", drillInstancePattern(args.database.identifier));
  const objects = (arn: pulumi.Input<string>, prefix = "") => pulumi.interpolate`${arn}/${prefix}*`;
  const role = (sa: IrsaServiceAccount, inline: pulumi.Output<string>): aws.iam.Role => irsaRole(ctx, eks, IRSA_SERVICE_ACCOUNTS[sa], { inline });

  const roles: Partial<Record<IrsaServiceAccount, aws.iam.Role>> = {
    api: role("api", policyDocument([{ Action: ["s3:GetObject", "s3:PutObject"], Resource: [objects(args.images.arn)] }])),
    imageWorker: role("imageWorker", policyDocument([{ Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [objects(args.images.arn)] }, { Action: ["s3:ListBucket"], Resource: [args.images.arn] }])),
    // The image GC lists the image objects and deletes those no product image names; it writes nothing.
    scheduler: role(
      "scheduler",
      policyDocument([
        { Sid: "ListImages", Action: ["s3:ListBucket"], Resource: [args.images.arn], Condition: { StringLike: { "s3:prefix": `${IMAGE_KEY_PREFIX}*` } } },
        { Sid: "DeleteUnreferencedImages", Action: ["s3:DeleteObject"], Resource: [objects(args.images.arn, IMAGE_KEY_PREFIX)] },
      ]),
    ),
    dbBackup: role(
      "dbBackup",
      policyDocument([
        // DeleteObject: ops/db-backup.ts removes a completed upload whose size or SHA-256 does not
        // match what it streamed (the bucket is versioned for replication, so that is a delete marker).
        { Sid: "WriteAndVerifyDumps", Action: ["s3:PutObject", "s3:GetObject", "s3:GetObjectAttributes", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], Resource: [objects(args.dumps.arn, DUMP_PREFIX)] },
        { Sid: "ListDumps", Action: ["s3:ListBucket"], Resource: [args.dumps.arn], Condition: { StringLike: { "s3:prefix": `${DUMP_PREFIX}*` } } },
        { Sid: "DumpKey", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [args.dumps.keyArn] },
      ]),
    ),
    restoreDrill: role(
      "restoreDrill",
      policyDocument([
        { Sid: "DescribeSourceAndDrill", Action: ["rds:DescribeDBInstances"], Resource: [source, drill] },
        {
          Sid: "RestoreIntoDrillInstance",
          Action: ["rds:RestoreDBInstanceToPointInTime"],
          Resource: [source, drill, rdsArn("subgrp", args.database.subnetGroupName), rdsArn("pg", "*"), rdsArn("og", "*")],
        },
        { Sid: "TagDrillInstance", Action: ["rds:AddTagsToResource"], Resource: [drill], Condition: { StringEquals: { [`aws:RequestTag/${RESTORE_DRILL_TAG.key}`]: RESTORE_DRILL_TAG.value } } },
        { Sid: "DeleteDrillInstance", Action: ["rds:DeleteDBInstance"], Resource: [drill], Condition: { StringEquals: { [`aws:ResourceTag/${RESTORE_DRILL_TAG.key}`]: RESTORE_DRILL_TAG.value } } },
        // The restored instance is encrypted with the database's customer-managed key: RDS needs a
        // grant on it made by the caller ("Amazon RDS encryption: ... kms:CreateGrant, kms:DescribeKey").
        { Sid: "DatabaseKeyGrant", Action: ["kms:CreateGrant"], Resource: [args.database.kmsKeyArn], Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
        { Sid: "DatabaseKeyDescribe", Action: ["kms:DescribeKey"], Resource: [args.database.kmsKeyArn] },
      ]),
    ),
    cloudwatchExporter: role("cloudwatchExporter", policyDocument([{ Action: ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics", "tag:GetResources"], Resource: "*" }])),
    loadBalancerController: role("loadBalancerController", pulumi.output(JSON.stringify(LBC_IAM_POLICY))),
  };
  const arns = Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r.arn])) as Record<IrsaServiceAccount, pulumi.Output<string>>;
  return { ...arns, ebsCsi: eks.addonRoleArns.ebsCsi, vpcCni: eks.addonRoleArns.vpcCni };
}

/** The irsaRoleArns output: "<namespace>/<name>" -> role ARN, for every IRSA service account. */
export function irsaRoleArnsOutput(roles: Record<IrsaServiceAccount, pulumi.Output<string>>): pulumi.Output<Record<string, string>> {
  return pulumi.all(Object.fromEntries((Object.keys(roles) as IrsaServiceAccount[]).map((k) => [serviceAccountKey(IRSA_SERVICE_ACCOUNTS[k]), roles[k]])));
}
