/**
 * Data-loss symptoms: a failed backup, or a newest backup older than the RPO.
 * Two backup paths exist: AWS Backup (RDS snapshots, reported by the CloudWatch exporter) and
 * the `db-backup` CronJob that writes pg_dump files to S3 every 30 minutes (kube-state-metrics).
 * Freshness is measured on the CronJob, whose last successful run is the newest dump.
 *
 * Backups proven by restoring them: the monthly `restore-drill` CronJob (ops/restore-drill.ts,
 * RESTORE_MODE=rds-pitr) restores the latest restorable time into a scratch instance and verifies it.
 * A failed drill, a drill that has not succeeded for 35 days, or no drill CronJob at all is a
 * warning (a ticket): nothing is lost yet, but the backups are no longer known to restore.
 */
import type { EnvironmentModel } from "../../model/environments.js";
import {
  awsBackupNumberOfBackupJobsAbortedSum,
  awsBackupNumberOfBackupJobsFailedSum,
  awsBackupNumberOfCopyJobsFailedSum,
  kubeCronjobCreated,
  kubeCronjobStatusLastSuccessfulTime,
  kubeJobOwner,
  kubeJobStatusFailed,
} from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";
import { DUMP_PREFIX, WORKLOADS } from "../../model/workloads.js";
import { MISSING_LABEL, input, missing, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

/** The drill runs on the 1st of every month; a month plus a few days to fix and re-run a failed one. */
export const RESTORE_DRILL_MAX_AGE_SECONDS = 35 * 24 * 3600;

export function backupAlerts(env: EnvironmentModel): AlertDefinition[] {
  return [...dumpAlerts(env), ...restoreDrillAlerts(env)];
}

function dumpAlerts(env: EnvironmentModel): AlertDefinition[] {
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
          { purpose: "Latest dumps in S3", command: `aws s3 ls s3://<dumps-bucket>/${DUMP_PREFIX} | sort | tail -5` },
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

function restoreDrillAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const drill = WORKLOADS.restoreDrillCronJob;
  const cronjob = { namespace: ns, cronjob: drill };
  const lastSuccess = sel(kubeCronjobStatusLastSuccessfulTime, cronjob);
  const created = sel(kubeCronjobCreated, cronjob);
  const maxAge = RESTORE_DRILL_MAX_AGE_SECONDS;
  const maxDays = maxAge / 86400;
  const day = 86400;
  const logs = { purpose: "The drill's report (RTO, RPO, every table's rows and checksum, the smoke checks, the problems)", command: `kubectl -n ${ns} logs job/<job-name>` };
  const rerun = { purpose: "Run the drill now", command: `kubectl -n ${ns} create job --from=cronjob/${drill} ${drill}-manual-$(date +%s)` };
  const leftovers = {
    purpose: "Scratch instances a killed drill left behind (the drill deletes its own in a finally)",
    command: "aws rds describe-db-instances --query \"DBInstances[?contains(DBInstanceIdentifier, '-drill-')].[DBInstanceIdentifier,DBInstanceStatus,InstanceCreateTime]\" --output table",
  };
  return [
    {
      name: "RestoreDrillFailed",
      expr: `max by (namespace, job_name) (${sel(kubeJobStatusFailed, { namespace: ns })} > 0 and on (namespace, job_name) ${sel(kubeJobOwner, { owner_kind: "CronJob", owner_name: drill })})`,
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "The restore drill failed: the backups are not proven to restore.",
      description: "Restore drill job {{ $labels.namespace }}/{{ $labels.job_name }} failed: the restore, the table comparison or the API smoke checks on the restored copy did not pass.",
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "a failed drill job fires",
          at: "10m",
          input: [
            input(kubeJobStatusFailed, { namespace: ns, job_name: `${drill}-29400000`, reason: "BackoffLimitExceeded" }, "0 0 1x10"),
            input(kubeJobOwner, { namespace: ns, job_name: `${drill}-29400000`, owner_kind: "CronJob", owner_name: drill, owner_is_controller: "true" }, "1x12"),
          ],
          fires: [{ labels: { namespace: ns, job_name: `${drill}-29400000` }, description: `Restore drill job ${ns}/${drill}-29400000 failed: the restore, the table comparison or the API smoke checks on the restored copy did not pass.` }],
        },
        {
          name: "a failed backup job is not a failed drill",
          at: "10m",
          input: [
            input(kubeJobStatusFailed, { namespace: ns, job_name: "db-backup-29400000", reason: "BackoffLimitExceeded" }, "1x12"),
            input(kubeJobOwner, { namespace: ns, job_name: "db-backup-29400000", owner_kind: "CronJob", owner_name: WORKLOADS.backupCronJob, owner_is_controller: "true" }, "1x12"),
            input(kubeJobStatusFailed, { namespace: ns, job_name: `${drill}-29400000`, reason: "" }, "0x12"),
            input(kubeJobOwner, { namespace: ns, job_name: `${drill}-29400000`, owner_kind: "CronJob", owner_name: drill, owner_is_controller: "true" }, "1x12"),
          ],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `A Job of the \`${drill}\` CronJob failed. The drill (ops/restore-drill.ts) restores the database's latest restorable time into a scratch RDS instance, compares the append-only tables with the source up to that time, starts the API on the copy and runs its smoke checks; any mismatch or failure exits non-zero.`,
        impact: "Nothing is lost yet, but the backups are not known to restore: a real restore could fail or come back incomplete. Treat a table mismatch as a possible data-loss bug in the backups.",
        queries: [
          { purpose: "Failed drill jobs", promql: `${sel(kubeJobStatusFailed, { namespace: ns })} > 0 and on (namespace, job_name) ${sel(kubeJobOwner, { owner_kind: "CronJob", owner_name: drill })}` },
          { purpose: "Age of the last successful drill, in days", promql: `(time() - ${lastSuccess}) / 86400` },
        ],
        commands: [logs, { purpose: "The drill's Jobs", command: `kubectl -n ${ns} get jobs -l app.kubernetes.io/name=${drill}` }, leftovers, rerun],
        mitigation: [
          "Read the report at the end of the log: `problems:` names what failed.",
          "A table MISMATCH (rows or checksum): the restored copy differs from the source. Run the drill by hand against the newest dump as well (procedure below) to tell a broken PITR from a broken dump, and raise it as a data-integrity incident.",
          "A failed smoke check: the restored copy does not serve the current API (schema or migration drift); check `_prisma_migrations` on both sides.",
          "An AWS error (quota, IAM, subnet group, timeout): fix it, delete any leftover `-drill-` instance, and run the drill again.",
          `Once a drill succeeds, delete the failed Job so the alert resolves: kubectl -n ${ns} delete job <job-name>.`,
        ],
        escalation: "Platform team during working hours (ticket); a table mismatch goes to the engineering manager the same day.",
        procedures: ["database-restore"],
      },
    },
    {
      name: "RestoreDrillTooOld",
      expr: `(time() - max by (namespace, cronjob) (${lastSuccess}) > ${maxAge}) or ((time() - max by (namespace, cronjob) (${created}) > ${maxAge}) unless on (namespace, cronjob) ${lastSuccess})`,
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: `No restore drill has succeeded for more than ${maxDays} days.`,
      description: `The restore drill {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for {{ $value | humanizeDuration }}; it runs monthly and must succeed at least every ${maxDays} days.`,
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "last success 36 days ago fires",
          at: "10m",
          // Timestamps before the test's epoch: 36 days before t=0.
          input: [input(kubeCronjobStatusLastSuccessfulTime, cronjob, `-${36 * day}x10`), input(kubeCronjobCreated, cronjob, `-${400 * day}x10`)],
          fires: [{ labels: cronjob, description: `The restore drill ${ns}/${drill} has not succeeded for 36d 0h 10m 0s; it runs monthly and must succeed at least every ${maxDays} days.` }],
        },
        {
          name: "a CronJob created 36 days ago that never succeeded fires",
          at: "10m",
          input: [input(kubeCronjobCreated, cronjob, `-${36 * day}x10`)],
          fires: [{ labels: cronjob, description: `The restore drill ${ns}/${drill} has not succeeded for 36d 0h 10m 0s; it runs monthly and must succeed at least every ${maxDays} days.` }],
        },
        {
          name: "a drill 3 days ago stays silent",
          at: "10m",
          input: [input(kubeCronjobStatusLastSuccessfulTime, cronjob, `-${3 * day}x10`), input(kubeCronjobCreated, cronjob, `-${400 * day}x10`)],
          fires: [],
        },
        {
          name: "a CronJob created 2 days ago that has not run yet stays silent",
          at: "10m",
          input: [input(kubeCronjobCreated, cronjob, `-${2 * day}x10`)],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `The \`${drill}\` CronJob (monthly, 06:00 UTC on the 1st) has not completed successfully for more than ${maxDays} days, or never has since it was created that long ago.`,
        impact: "The backups have not been proven to restore for over a month: the RTO and RPO are unverified.",
        queries: [
          { purpose: "Days since the last successful drill", promql: `(time() - ${lastSuccess}) / 86400` },
          { purpose: "Days since the CronJob was created", promql: `(time() - ${created}) / 86400` },
        ],
        commands: [
          { purpose: "CronJob state (suspended? last schedule?)", command: `kubectl -n ${ns} get cronjob ${drill} -o wide` },
          { purpose: "The drill's Jobs", command: `kubectl -n ${ns} get jobs -l app.kubernetes.io/name=${drill}` },
          logs,
          rerun,
        ],
        mitigation: ["Unsuspend the CronJob if it was suspended; if runs fail, follow RestoreDrillFailed; run the drill now and watch it to the end (it takes the restore time of the whole database, often an hour or more)."],
        escalation: "Platform team during working hours (ticket).",
        procedures: ["database-restore"],
      },
    },
    {
      name: "RestoreDrillMissing",
      expr: `absent(${created})`,
      for: "1h",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "The restore drill CronJob does not exist.",
      description: `No {{ $labels.cronjob }} CronJob is reported in {{ $labels.namespace }}: the monthly restore drill is not scheduled.`,
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "no drill CronJob for an hour fires",
          at: "90m",
          input: [input(kubeCronjobCreated, { namespace: ns, cronjob: WORKLOADS.backupCronJob }, "1x90")],
          fires: [{ labels: cronjob, description: `No ${drill} CronJob is reported in ${ns}: the monthly restore drill is not scheduled.` }],
        },
        {
          name: "the drill CronJob exists: silent",
          at: "90m",
          input: [input(kubeCronjobCreated, cronjob, "1x90")],
          fires: [],
        },
        {
          name: "gone for less than an hour stays silent",
          at: "90m",
          input: [input(kubeCronjobCreated, cronjob, "1x60")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `kube-state-metrics reports no \`${drill}\` CronJob in ${ns} for an hour: it was deleted or never deployed, or kube-state-metrics is not scraped (then other CronJob alerts are blind too).`,
        impact: "No restore drill will run, so nothing proves the backups restore.",
        queries: [
          { purpose: "The CronJobs kube-state-metrics reports in the namespace", promql: sel(kubeCronjobCreated, { namespace: ns }) },
        ],
        commands: [
          { purpose: "Is the CronJob there?", command: `kubectl -n ${ns} get cronjobs` },
          { purpose: "Is kube-state-metrics running?", command: "kubectl -n monitoring get pods -l app.kubernetes.io/name=kube-state-metrics" },
        ],
        mitigation: [`Re-deploy the stack (pulumi up) to recreate the \`${drill}\` CronJob, then run the drill once by hand: kubectl -n ${ns} create job --from=cronjob/${drill} ${drill}-manual-$(date +%s).`],
        escalation: "Platform team during working hours (ticket).",
        procedures: ["database-restore"],
      },
    },
  ];
}
