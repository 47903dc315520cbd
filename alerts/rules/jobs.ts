/** Job engine alerts: failure rates, backlogs, dead letters, stuck jobs, saturation, source checks. */
import type { EnvironmentModel } from "../../model/environments.js";
import {
  jobsCompletedTotal,
  jobsDeadLetterSize,
  jobsFailedTotal,
  jobsQueueDepth,
  jobsStartedTotal,
  jobsStuckDetectedTotal,
  sourceChecksTotal,
  workerBusySecondsTotal,
  workerConcurrency,
  jobsDeadLetteredTotal,
  jobProcessingDuration,
  jobsRetentionOverdueSeconds,
  jobsRetentionRemovedTotal,
  jobsTableBytes,
} from "../../services/metrics.js";
import { rabbitmqQueueMessagesReady } from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";

import { JOB_TYPES } from "../../services/jobs/types.js";
import { workQueue } from "../../services/jobs/topology.js";
import { bucket, input, sel } from "../promql.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const T = THRESHOLDS;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The translation work queue: it has its own, named backlog alert. */
export const TRANSLATION_QUEUE = workQueue("translation");
/** Every other work queue (retry delay queues and dead-letter queues are excluded on purpose). */
export const OTHER_WORK_QUEUES = JOB_TYPES.filter((t) => t !== "translation").map((t) => workQueue(t));
const otherQueuesMatcher = `queue=~${JSON.stringify(OTHER_WORK_QUEUES.map(escapeRegex).join("|"))}`;
/** Busy time over handler slots per job type; the alert and its runbook query share it. */
const workerUtilization = `sum by (type) (rate(${sel(workerBusySecondsTotal)}[5m])) / sum by (type) (${sel(workerConcurrency)})`;

export function jobAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const importStarted = (window: string) => `sum(rate(${sel(jobsStartedTotal, { type: "import" })}[${window}]))`;
  const sourceChecks = (window: string) => `sum(rate(${sel(sourceChecksTotal)}[${window}]))`;
  const dlqApi = (token: string) => `curl -s -H "Authorization: Bearer ${token}" ${env.urls.api}/v1/admin/dead-jobs`;
  return [
    {
      name: "ImportJobFailureRateHigh",
      expr: `sum(rate(${sel(jobsFailedTotal, { type: "import" })}[15m])) / ${importStarted("15m")} > ${T.importFailureRatio}`,
      minEvents: { rate: importStarted, window: "15m", perSecond: T.minJobRate },
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "More than 10% of import job attempts fail.",
      description: "{{ $value | humanizePercentage }} of import job attempts failed over the last 15 minutes.",
      dashboards: [DASHBOARD_UIDS.jobs, DASHBOARD_UIDS.business],
      examples: [
        { name: "20% failures fires", at: "35m", input: [input(jobsStartedTotal, { type: "import" }, "0+10x40"), input(jobsFailedTotal, { type: "import" }, "0+2x40")], fires: [{ description: "20% of import job attempts failed over the last 15 minutes." }] },
        // Six imports an hour, one in five failing: 20%, but too few attempts to judge.
        { name: "one error at very low traffic stays silent", at: "35m", input: [input(jobsStartedTotal, { type: "import" }, "0+0.1x40"), input(jobsFailedTotal, { type: "import" }, "0+0.02x40")], fires: [] },
        { name: "the same ratio at normal traffic fires", at: "35m", input: [input(jobsStartedTotal, { type: "import" }, "0+60x40"), input(jobsFailedTotal, { type: "import" }, "0+12x40")], fires: [{ description: "20% of import job attempts failed over the last 15 minutes." }] },
        { name: "5% failures stays silent", at: "35m", input: [input(jobsStartedTotal, { type: "import" }, "0+10x40"), input(jobsFailedTotal, { type: "import" }, "0+0.5x40")], fires: [] },
        { name: "failures of another job type stay silent", at: "35m", input: [input(jobsStartedTotal, { type: "image" }, "0+10x40"), input(jobsFailedTotal, { type: "image" }, "0+5x40")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `More than ${T.importFailureRatio * 100}% of import job attempts failed over 15 minutes, for 15 minutes.`,
        impact: "Products from the source sites are not imported or updated; retries add load; jobs may end in the dead-letter queue.",
        queries: [{ purpose: "Failure ratio per job type", promql: `sum by (type) (rate(${sel(jobsFailedTotal)}[15m])) / sum by (type) (rate(${sel(jobsStartedTotal)}[15m]))` }],
        commands: [
          { purpose: "Worker errors", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=worker --prefix --since=30m | grep '"type":"import"' | grep -i error | tail -20` },
          { purpose: "Failed imports in the database", command: "psql \"$DATABASE_URL\" -c \"SELECT last_error, count(*) FROM jobs WHERE type = 'import' AND status IN ('failed','dead') AND updated_at > now() - interval '1 hour' GROUP BY 1 ORDER BY 2 DESC LIMIT 10\"" },
        ],
        mitigation: ["If a source site changed its markup or blocks us, pause imports for that source and tell the product owners.", "If the cause is ours (a bug), roll back the worker."],
        escalation: "Chat only; platform team in working hours.",
        procedures: ["dlq-review-and-replay", "rollback"],
      },
    },
    {
      name: "TranslationQueueBacklog",
      expr: `max by (queue) (${sel(jobsQueueDepth, { queue: TRANSLATION_QUEUE })}) > ${T.translationQueueDepth}`,
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "More than 1000 translation jobs are waiting.",
      description: "{{ $value }} messages are waiting in the {{ $labels.queue }} queue.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "1500 waiting fires", at: "20m", input: [input(jobsQueueDepth, { queue: TRANSLATION_QUEUE, pod: "worker-1" }, "1500x20")], fires: [{ labels: { queue: "jobs.translation" }, description: "1500 messages are waiting in the jobs.translation queue." }] },
        { name: "500 waiting stays silent", at: "20m", input: [input(jobsQueueDepth, { queue: TRANSLATION_QUEUE, pod: "worker-1" }, "500x20")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `The translation queue has held more than ${T.translationQueueDepth} ready messages for 15 minutes.`,
        impact: "New products wait longer before review; the translation provider may be rate limiting us.",
        queries: [
          { purpose: "Depth per queue (from the app)", promql: `max by (queue) (${sel(jobsQueueDepth)})` },
          { purpose: "Depth per queue (from RabbitMQ)", promql: `sum by (queue) (${sel(rabbitmqQueueMessagesReady)})` },
        ],
        commands: [
          { purpose: "Queue state from the Amazon MQ management API", command: "curl -s -u \"$MQ_USER:$MQ_PASSWORD\" \"$MQ_MANAGEMENT_URL/api/queues\" | jq '.[] | {name, messages_ready, messages_unacknowledged, consumers}'" },
          { purpose: "Translation errors", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=worker --prefix --since=30m | grep translation | grep -i -E '429|error' | tail` },
        ],
        mitigation: ["If the provider returns 429, lower concurrency and wait; otherwise raise maxReplicas of the translation workers in the stack config (KEDA scales them on queue length)."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "JobQueueBacklog",
      expr: `max by (queue) (${sel(jobsQueueDepth, otherQueuesMatcher)}) > ${T.jobQueueDepth}`,
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "More than 1000 jobs are waiting in a queue.",
      description: "{{ $value }} messages are waiting in the {{ $labels.queue }} queue.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "2000 image jobs fire", at: "20m", input: [input(jobsQueueDepth, { queue: workQueue("image"), pod: "worker-1" }, "2000x20")], fires: [{ labels: { queue: "jobs.image" }, description: "2000 messages are waiting in the jobs.image queue." }] },
        { name: "translation has its own alert", at: "20m", input: [input(jobsQueueDepth, { queue: TRANSLATION_QUEUE, pod: "worker-1" }, "2000x20")], fires: [] },
        { name: "a retry delay queue is not a backlog", at: "20m", input: [input(jobsQueueDepth, { queue: "jobs.image.retry.16000ms", pod: "worker-1" }, "5000x20")], fires: [] },
        { name: "a short spike stays silent", at: "20m", input: [input(jobsQueueDepth, { queue: workQueue("image"), pod: "worker-1" }, "0x10 5000x5 0x5")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `A work queue (other than translation, which has its own alert; retry delay and dead-letter queues are excluded) has held more than ${T.jobQueueDepth} ready messages for 15 minutes.`,
        impact: "The pipeline step behind that queue is late: imports, images, pushes or source checks wait.",
        queries: [{ purpose: "Depth per queue", promql: `max by (queue) (${sel(jobsQueueDepth)})` }],
        commands: [{ purpose: "Queue state from the Amazon MQ management API", command: "curl -s -u \"$MQ_USER:$MQ_PASSWORD\" \"$MQ_MANAGEMENT_URL/api/queues\" | jq '.[] | {name, messages_ready, consumers}'" }],
        mitigation: ["Check the consumers are running (consumers > 0); scale the workers; see WorkerSaturated."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "DeadLetterQueueNotEmpty",
      expr: `max by (type) (${sel(jobsDeadLetterSize)}) > 0`,
      for: "5m",
      severity: SEVERITY.warning,
      team: TEAMS.admins,
      summary: "Dead jobs are waiting for an operator.",
      description: "{{ $value }} dead {{ $labels.type }} job(s) wait for an operator to retry or discard them.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "three dead jobs fire", at: "10m", input: [input(jobsDeadLetterSize, { type: "push", pod: "api-1" }, "3x10"), input(jobsDeadLetterSize, { type: "push", pod: "api-2" }, "3x10")], fires: [{ labels: { type: "push" }, description: "3 dead push job(s) wait for an operator to retry or discard them." }] },
        { name: "an empty DLQ stays silent", at: "10m", input: [input(jobsDeadLetterSize, { type: "push", pod: "api-1" }, "0x10")], fires: [] },
      ],
      runbook: {
        whatIsHappening: "Jobs exhausted their retries and were moved to the dead-letter queue (status `dead`). They wait for an admin to review, retry or discard them.",
        impact: "The products behind these jobs are stuck in their pipeline step until someone acts.",
        queries: [
          { purpose: "Dead jobs per type", promql: `max by (type) (${sel(jobsDeadLetterSize)})` },
          { purpose: "Dead-lettering rate", promql: `sum by (type) (rate(${sel(jobsDeadLetteredTotal)}[1h]))` },
        ],
        commands: [
          { purpose: "List dead jobs (admin token)", command: dlqApi("$ADMIN_TOKEN") },
          { purpose: "Errors of dead jobs", command: "psql \"$DATABASE_URL\" -c \"SELECT type, last_error, count(*) FROM jobs WHERE status = 'dead' GROUP BY 1, 2 ORDER BY 3 DESC\"" },
        ],
        mitigation: ["Follow procedures/dlq-review-and-replay.md: fix the cause first, then retry the jobs; discard those that can never succeed."],
        escalation: "Admins' Slack channel; no page. If the DLQ grows by more than 100 a day, raise it in the platform stand-up.",
        procedures: ["dlq-review-and-replay"],
      },
    },
    {
      name: "JobsStuck",
      expr: `sum by (type) (increase(${sel(jobsStuckDetectedTotal)}[30m])) > 0`,
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "Jobs were found stuck in processing.",
      description: "{{ $value | humanize }} {{ $labels.type }} job(s) were found stuck past their timeout in the last 30 minutes.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "two stuck jobs fire", at: "30m", input: [input(jobsStuckDetectedTotal, { type: "image", action: "requeued" }, "0x5 2x25")], fires: [{ labels: { type: "image" }, description: "2 image job(s) were found stuck past their timeout in the last 30 minutes." }] },
        { name: "no stuck jobs stay silent", at: "30m", input: [input(jobsStuckDetectedTotal, { type: "image", action: "requeued" }, "0x30")], fires: [] },
      ],
      runbook: {
        whatIsHappening: "The stuck-job detector found jobs in `processing` longer than their type's timeout and requeued or failed them.",
        impact: "Those jobs ran late; a handler may hang on an external call (source site, translation API, store API, S3).",
        queries: [
          { purpose: "Stuck jobs per type and action", promql: `sum by (type, action) (increase(${sel(jobsStuckDetectedTotal)}[30m]))` },
          { purpose: "p99 processing time per type", promql: `histogram_quantile(0.99, sum by (le, type) (rate(${bucket(jobProcessingDuration)}[30m])))` },
        ],
        commands: [
          { purpose: "Jobs processing now, oldest first", command: "psql \"$DATABASE_URL\" -c \"SELECT id, type, attempts, started_at FROM jobs WHERE status = 'processing' ORDER BY started_at LIMIT 20\"" },
          { purpose: "Worker logs around the timeout", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=worker --prefix --since=30m | grep -i timeout | tail` },
        ],
        mitigation: ["Find the slow dependency; lower its client timeout below the job timeout; restart a hung worker: kubectl -n " + ns + " rollout restart deployment/worker-<type>."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "WorkerSaturated",
      expr: `${workerUtilization} > ${T.workerUtilization}`,
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "Workers of a job type are saturated.",
      description: "{{ $labels.type }} workers are {{ $value | humanizePercentage }} busy.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "95% busy fires", at: "25m", input: [input(workerBusySecondsTotal, { type: "image", pod: "worker-1" }, "0+228x30"), input(workerConcurrency, { type: "image", pod: "worker-1" }, "4x30")], fires: [{ labels: { type: "image" }, description: "image workers are 95% busy." }] },
        { name: "50% busy stays silent", at: "25m", input: [input(workerBusySecondsTotal, { type: "image", pod: "worker-1" }, "0+120x30"), input(workerConcurrency, { type: "image", pod: "worker-1" }, "4x30")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `Handler slots of one job type have been more than ${T.workerUtilization * 100}% busy for 15 minutes: work arrives as fast as it can be processed.`,
        impact: "Queues grow; the pipeline step behind them slows down.",
        queries: [{ purpose: "Utilization per type", promql: workerUtilization }],
        commands: [{ purpose: "Worker replicas and CPU", command: `kubectl -n ${ns} get deploy -l app.kubernetes.io/component=worker && kubectl -n ${ns} top pods -l app.kubernetes.io/component=worker` }],
        mitigation: ["Scale the workers (replicas or concurrency) if the dependency behind the handler can take more load; otherwise accept the backlog."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "SourceCheckSuccessRateFalling",
      expr: `sum(rate(${sel(sourceChecksTotal, 'outcome!="error"')}[30m])) / ${sourceChecks("30m")} < ${T.sourceCheckSuccessRatio}`,
      minEvents: { rate: sourceChecks, window: "30m", perSecond: T.minJobRate },
      for: "30m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "Fewer than 90% of source checks succeed.",
      description: "Only {{ $value | humanizePercentage }} of source checks completed without error over the last 30 minutes.",
      dashboards: [DASHBOARD_UIDS.business, DASHBOARD_UIDS.jobs],
      examples: [
        { name: "70% success fires", at: "70m", input: [input(sourceChecksTotal, { outcome: "available" }, "0+7x80"), input(sourceChecksTotal, { outcome: "error" }, "0+3x80")], fires: [{ description: "Only 70% of source checks completed without error over the last 30 minutes." }] },
        { name: "gone products are a successful check", at: "70m", input: [input(sourceChecksTotal, { outcome: "available" }, "0+5x80"), input(sourceChecksTotal, { outcome: "gone" }, "0+5x80")], fires: [] },
        { name: "95% success stays silent", at: "70m", input: [input(sourceChecksTotal, { outcome: "available" }, "0+19x80"), input(sourceChecksTotal, { outcome: "error" }, "0+1x80")], fires: [] },
        // Six checks an hour, 70% of them successful, but too few to judge.
        { name: "one error at very low traffic stays silent", at: "70m", input: [input(sourceChecksTotal, { outcome: "available" }, "0+0.07x80"), input(sourceChecksTotal, { outcome: "error" }, "0+0.03x80")], fires: [] },
        { name: "the same ratio at normal traffic fires", at: "70m", input: [input(sourceChecksTotal, { outcome: "available" }, "0+420x80"), input(sourceChecksTotal, { outcome: "error" }, "0+180x80")], fires: [{ description: "Only 70% of source checks completed without error over the last 30 minutes." }] },
      ],
      runbook: {
        whatIsHappening: `Less than ${T.sourceCheckSuccessRatio * 100}% of source checks completed without error (outcome other than \`error\`) for 30 minutes.`,
        impact: "Prices and availability of published products are not verified; gone products may stay on sale.",
        queries: [{ purpose: "Outcomes per second", promql: `sum by (outcome) (rate(${sel(sourceChecksTotal)}[30m]))` }],
        commands: [{ purpose: "Errors by source host", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=worker --prefix --since=1h | grep source_check | grep -i error | tail -20` }],
        mitigation: ["If one source host blocks us (403/429), slow down its checks and contact the source; if all fail, check egress/DNS from the cluster."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "JobRetentionFallingBehind",
      expr: `max by (type) (${sel(jobsRetentionOverdueSeconds)}) > ${T.jobRetentionOverdueSeconds}`,
      for: "1h",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "Completed jobs are not removed as fast as their retention requires.",
      description: "The oldest completed {{ $labels.type }} job is {{ $value | humanizeDuration }} past its retention.",
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: [
        { name: "8h past retention fires", at: "90m", input: [input(jobsRetentionOverdueSeconds, { type: "image", pod: "worker-1" }, "30000x90"), input(jobsRetentionOverdueSeconds, { type: "image", pod: "api-1" }, "30000x90")], fires: [{ labels: { type: "image" }, description: "The oldest completed image job is 8h 20m 0s past its retention." }] },
        { name: "keeping up stays silent", at: "90m", input: [input(jobsRetentionOverdueSeconds, { type: "image", pod: "worker-1" }, "0x90")], fires: [] },
        { name: "a backlog cleared within the hour stays silent", at: "90m", input: [input(jobsRetentionOverdueSeconds, { type: "push", pod: "worker-1" }, "0x40 30000x30 0x20")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `The oldest \`completed\` job of a type has been more than ${T.jobRetentionOverdueSeconds / 3600} hours past its retention (JOB_RETENTION_DAYS, JOB_RETENTION_DAYS_BY_TYPE) for an hour: the retention pass of the scheduler does not run, fails, or removes fewer rows per interval than are completed.`,
        impact: "The jobs table keeps growing: more disk, slower vacuum and backups. Job processing itself is unaffected; no dead or failed job is ever removed by retention.",
        queries: [
          { purpose: "Rows removed per second, by type", promql: `sum by (type) (rate(${sel(jobsRetentionRemovedTotal)}[30m]))` },
          { purpose: "Jobs completed per second, by type (what retention must keep up with)", promql: `sum by (type) (rate(${sel(jobsCompletedTotal)}[30m]))` },
          { purpose: "Size of the jobs table", promql: `max(${sel(jobsTableBytes)})` },
        ],
        commands: [
          { purpose: "Retention passes and their errors in the scheduler's log", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=scheduler --since=2h | grep -E 'completed jobs removed|completed-job retention failed' | tail -20` },
          { purpose: "Completed jobs past the default 7-day retention, by type", command: "psql \"$DATABASE_URL\" -c \"SELECT type, count(*), min(created_at) FROM jobs WHERE status = 'completed' AND created_at < now() - interval '7 days' GROUP BY type\"" },
          { purpose: "Long transactions that hold locks (they block the DELETEs and vacuum)", command: "psql \"$DATABASE_URL\" -c \"SELECT pid, now() - xact_start AS age, state, left(query, 80) FROM pg_stat_activity WHERE xact_start < now() - interval '5 minutes' ORDER BY xact_start\"" },
        ],
        mitigation: [
          `Make sure the scheduler runs (one replica): kubectl -n ${ns} get deploy scheduler; restart it if its log shows no retention pass.`,
          "If passes run but do not catch up, raise JOB_RETENTION_BATCH (rows per DELETE, default 1000) or lower JOB_RETENTION_INTERVAL_MS (default 60000) on the scheduler; each pass removes at most 50 batches per type.",
          "End a long-running transaction that holds rows (pg_terminate_backend) after checking what it is.",
        ],
        escalation: "Chat only; platform team in working hours.",
      },
    },
  ];
}
