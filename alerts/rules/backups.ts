/**
 * Data-loss symptoms: a failed backup, or a newest backup older than the RPO.
 * Two backup paths exist: AWS Backup (RDS snapshots, reported by the CloudWatch exporter) and
 * the `db-backup` CronJob that writes pg_dump files to S3 every 30 minutes (kube-state-metrics).
 * Freshness is measured on the CronJob, whose last successful run is the newest dump.
 */
import type { EnvironmentModel } from "../../model/environments.js";
import { awsBackupNumberOfBackupJobsAbortedSum, awsBackupNumberOfBackupJobsFailedSum, awsBackupNumberOfCopyJobsFailedSum, kubeCronjobStatusLastSuccessfulTime, kubeJobOwner, kubeJobStatusFailed } from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";
import { WORKLOADS } from "../../model/workloads.js";
import { MISSING_LABEL, input, missing, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

export function backupAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const cron = WORKLOADS.backupCronJob;
  const lastSuccess = sel(kubeCronjobStatusLastSuccessfulTime, { namespace: ns, cronjob: cron });
  const rpoHours = THRESHOLDS.rpoSeconds / 3600;
  /** Failed or aborted backup jobs and failed copies to the second region all break the RPO. */
  const awsFailures = [awsBackupNumberOfBackupJobsFailedSum, awsBackupNumberOfBackupJobsAbortedSum, awsBackupNumberOfCopyJobsFailedSum];
  const W = THRESHOLDS.missingInputWindow;
  const awsMissingDescription = `AWS Backup job outcomes have not been reported for ${W} (the CloudWatch exporter is down): a failed backup would go unseen.`;
  const cronLabels = { namespace: ns, cronjob: cron };
  const neverSucceededDescription = `No successful backup from ${ns}/${cron} is known: kube-state-metrics has reported no last successful time for ${W} (the CronJob never succeeded, was renamed, or kube-state-metrics is down).`;
  return [
    {
      name: "BackupFailed",
      expr:
        awsFailures.map((m) => `(sum by (resource_type) (max_over_time(${sel(m)}[1h])) > 0)`).join(" or ") +
        ` or (max by (namespace, job_name) (${sel(kubeJobStatusFailed, { namespace: ns })} > 0 and on (namespace, job_name) ${sel(kubeJobOwner, { owner_kind: "CronJob", owner_name: cron })}))` +
        ` or ${missing(awsBackupNumberOfBackupJobsFailedSum, undefined, W)}`,
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.dataProtection,
      missingInput: {
        kind: "fires",
        decision: `No AWS Backup failure count for ${W} fires: the CloudWatch exporter reports 0 when nothing failed (nil_to_zero), so absence means the exporter is down and a failed backup would go unseen. No \`${kubeJobStatusFailed.name}\` series means no failed Job, the right reading; kube-state-metrics being down fires BackupTooOld.`,
      },
      summary: "A database backup failed or its outcome is not reported.",
      description: `{{ if $labels.${MISSING_LABEL} }}${awsMissingDescription}{{ else if $labels.resource_type }}AWS Backup reported failed, aborted or uncopied {{ $labels.resource_type }} backups within the last hour.{{ else }}Backup job {{ $labels.namespace }}/{{ $labels.job_name }} failed.{{ end }}`,
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "AWS Backup reports a failed job",
          at: "30m",
          input: [input(awsBackupNumberOfBackupJobsFailedSum, { resource_type: "RDS" }, "0x9 1 0x20"), input(awsBackupNumberOfCopyJobsFailedSum, { resource_type: "RDS" }, "0x30")],
          fires: [{ labels: { resource_type: "RDS" }, description: "AWS Backup reported failed, aborted or uncopied RDS backups within the last hour." }],
        },
        {
          name: "a failed copy to the second region fires",
          at: "30m",
          input: [input(awsBackupNumberOfBackupJobsFailedSum, { resource_type: "RDS" }, "0x30"), input(awsBackupNumberOfCopyJobsFailedSum, { resource_type: "RDS" }, "0x20 1x10")],
          fires: [{ labels: { resource_type: "RDS" }, description: "AWS Backup reported failed, aborted or uncopied RDS backups within the last hour." }],
        },
        {
          name: "the pg_dump CronJob fails",
          at: "10m",
          input: [
            input(kubeJobStatusFailed, { namespace: ns, job_name: "db-backup-29000000", reason: "BackoffLimitExceeded" }, "0 0 1x10"),
            input(kubeJobOwner, { namespace: ns, job_name: "db-backup-29000000", owner_kind: "CronJob", owner_name: cron, owner_is_controller: "true" }, "1x12"),
            input(awsBackupNumberOfBackupJobsFailedSum, { resource_type: "RDS" }, "0x12"),
          ],
          fires: [{ labels: { namespace: ns, job_name: "db-backup-29000000" }, description: `Backup job ${ns}/db-backup-29000000 failed.` }],
        },
        {
          name: "AWS Backup outcomes not reported (input missing) fires",
          at: "15m",
          input: [],
          fires: [{ labels: { [MISSING_LABEL]: awsBackupNumberOfBackupJobsFailedSum.name }, description: awsMissingDescription }],
          missingInput: true,
        },
        {
          name: "a failed job of another CronJob stays silent",
          at: "10m",
          input: [
            input(kubeJobStatusFailed, { namespace: ns, job_name: "report-29000000", reason: "BackoffLimitExceeded" }, "1x12"),
            input(kubeJobOwner, { namespace: ns, job_name: "report-29000000", owner_kind: "CronJob", owner_name: "report", owner_is_controller: "true" }, "1x12"),
            input(awsBackupNumberOfBackupJobsFailedSum, { resource_type: "RDS" }, "0x12"),
          ],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `AWS Backup reported a failed or aborted backup job, or a failed copy to the second region, in the last hour, or a Job of the \`${cron}\` CronJob (pg_dump to S3) failed, or AWS Backup's outcomes have not been reported for ${W} (the CloudWatch exporter is down: restore it, then check the backups in the AWS console).`,
        impact: "The recovery point objective is at risk: if the database is lost now, the newest restorable copy may be older than planned.",
        queries: [
          { purpose: "Failed AWS Backup jobs", promql: `max_over_time(${sel(awsBackupNumberOfBackupJobsFailedSum)}[1h])` },
          { purpose: "Failed copies to the second region", promql: `max_over_time(${sel(awsBackupNumberOfCopyJobsFailedSum)}[1h])` },
          { purpose: "Age of the newest dump, in seconds", promql: `time() - ${lastSuccess}` },
        ],
        commands: [
          { purpose: "Recent backup jobs and their status", command: "aws backup list-backup-jobs --by-state FAILED --max-results 10" },
          { purpose: "The failed CronJob run", command: `kubectl -n ${ns} get jobs -l app.kubernetes.io/name=${cron} && kubectl -n ${ns} logs job/<job-name>` },
          { purpose: "Run a backup now", command: `kubectl -n ${ns} create job --from=cronjob/${cron} ${cron}-manual-$(date +%s)` },
        ],
        mitigation: [
          "Fix the cause shown in the logs (credentials, S3 permissions, disk) and run a manual backup as above.",
          "Once a backup succeeds, delete the failed Job so the alert resolves: kubectl -n " + ns + " delete job <job-name>.",
        ],
        escalation: "Platform on-call via PagerDuty; data loss risk is reported to the engineering manager the same day.",
        procedures: ["database-restore"],
      },
    },
    {
      name: "BackupTooOld",
      expr: `(time() - max by (namespace, cronjob) (${lastSuccess}) > ${THRESHOLDS.rpoSeconds}) or ${missing(kubeCronjobStatusLastSuccessfulTime, cronLabels, W)}`,
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.dataProtection,
      missingInput: {
        kind: "fires",
        decision: `No last-successful-time series for the \`${cron}\` CronJob for ${W} fires: it never succeeded, was renamed, or kube-state-metrics is down, and in each case no backup inside the RPO is known.`,
      },
      summary: `The newest database backup is older than the ${rpoHours} hour RPO.`,
      description: `{{ if $labels.${MISSING_LABEL} }}${neverSucceededDescription}{{ else }}The newest successful backup from {{ $labels.namespace }}/{{ $labels.cronjob }} is {{ $value | humanizeDuration }} old, beyond the ${rpoHours}h RPO.{{ end }}`,
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "no last successful time (input missing: never succeeded, renamed, or kube-state-metrics down) fires",
          at: "15m",
          input: [],
          fires: [{ labels: { ...cronLabels, [MISSING_LABEL]: kubeCronjobStatusLastSuccessfulTime.name }, description: neverSucceededDescription }],
          missingInput: true,
        },
        {
          name: "last success 70 minutes ago fires",
          at: "70m",
          input: [input(kubeCronjobStatusLastSuccessfulTime, { namespace: ns, cronjob: cron }, "0x70")],
          fires: [{ labels: { namespace: ns, cronjob: cron }, description: `The newest successful backup from ${ns}/${cron} is 1h 10m 0s old, beyond the 1h RPO.` }],
        },
        {
          name: "a fresh backup stays silent",
          at: "70m",
          input: [input(kubeCronjobStatusLastSuccessfulTime, { namespace: ns, cronjob: cron }, "0+60x70")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `The \`${cron}\` CronJob has not completed successfully for more than ${rpoHours} hour (it is scheduled every 30 minutes), or no successful run is known at all (kube-state-metrics reports no last successful time: the CronJob never succeeded, was renamed, or kube-state-metrics is down).`,
        impact: "The RPO is violated: losing the database now loses more than an hour of data (RDS point-in-time recovery may still cover it; check).",
        queries: [{ purpose: "Age of the newest dump, in seconds", promql: `time() - ${lastSuccess}` }],
        commands: [
          { purpose: "CronJob state (suspended? last schedule?)", command: `kubectl -n ${ns} get cronjob ${cron} -o wide` },
          { purpose: "Is kube-state-metrics running (no last successful time at all)?", command: "kubectl -n monitoring get pods -l app.kubernetes.io/name=kube-state-metrics" },
          { purpose: "Latest dumps in S3", command: "aws s3 ls s3://<backup-bucket>/pg_dump/ --recursive | sort | tail -5" },
          { purpose: "RDS restorable window", command: "aws rds describe-db-instances --query 'DBInstances[].LatestRestorableTime'" },
          { purpose: "Run a backup now", command: `kubectl -n ${ns} create job --from=cronjob/${cron} ${cron}-manual-$(date +%s)` },
        ],
        mitigation: ["Unsuspend the CronJob if it was suspended; run a manual backup; fix failing runs (see BackupFailed)."],
        escalation: "Platform on-call via PagerDuty.",
        procedures: ["database-restore"],
      },
    },
  ];
}
