/**
 * Is the job pipeline moving? Three symptoms, each for every job type:
 *   - JobWorkersUnavailable: no worker of the type is available (its Deployment has no available
 *     replica while one is wanted, every pod of it fails its scrape, or the Deployment is gone);
 *   - JobQueueWithoutConsumers: the type's work queue holds messages and nothing consumes it;
 *   - JobQueueStalled: the oldest due job of the type has waited longer than 30 minutes, however
 *     small the queue (a lost message or a stuck consumer never shows as depth).
 * Each pages (critical) for the types on the product's main path, import -> translation -> image ->
 * (review) -> push, where a stop holds every new product back; for source_check it is a warning:
 * source checks re-verify published products every 6 hours in the background, so a few hours of
 * delay is planned work for the next working day, not a night call (SourceCheckSuccessRateFalling
 * is a warning for the same reason).
 */
import type { EnvironmentModel } from "../../model/environments.js";
import { METRICS_PORT, WORKER_SCRAPE_JOB, workerDeployment } from "../../model/workloads.js";
import { jobsCompletedTotal, jobsOldestWaitingSeconds, jobsQueueDepth } from "../../services/metrics.js";
import { kubeDeploymentSpecReplicas, kubeDeploymentStatusReplicasAvailable, rabbitmqQueueConsumers, rabbitmqQueueMessagesReady, rabbitmqQueueMessagesUnacknowledged, up } from "../../services/metrics-exporters.js";
import { JOB_TYPES } from "../../services/jobs/types.js";
import type { JobType } from "../../services/jobs/types.js";
import { workQueue } from "../../services/jobs/topology.js";
import type { AlertDefinition, AlertExample, InputSeries } from "../alert-def.js";
import { INCIDENTS } from "../incidents.js";
import { MISSING_LABEL, input, missing, sel } from "../promql.js";
import { SEVERITY, TEAMS } from "../severity.js";
import type { Severity } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const T = THRESHOLDS;

/** The job types on the product's main path: their workers down or their queue stopped pages. */
export const PAGING_JOB_TYPES = ["import", "translation", "image", "push"] as const satisfies readonly JobType[];

/** Each severity and the job types it covers (every type exactly once). */
export const JOB_TYPE_SEVERITY: readonly { readonly severity: Severity; readonly types: readonly JobType[] }[] = [
  { severity: SEVERITY.critical, types: PAGING_JOB_TYPES },
  { severity: SEVERITY.warning, types: JOB_TYPES.filter((t) => !(PAGING_JOB_TYPES as readonly JobType[]).includes(t)) },
];

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const anyOf = (values: readonly string[]) => values.map(escapeRegex).join("|");
/** A Deployment's pods: `<deployment>-<replicaset hash>-<pod hash>`. */
const podsOf = (deployments: readonly string[]) => `(${anyOf(deployments)})-[a-z0-9]+-[a-z0-9]+`;

/** Alerts that share a name across severities: the first definition carries the examples and the runbook. */
function perSeverity(make: (severity: Severity, types: readonly JobType[], first: boolean) => AlertDefinition): AlertDefinition[] {
  return JOB_TYPE_SEVERITY.filter((s) => s.types.length > 0).map((s, i) => make(s.severity, s.types, i === 0));
}

export function workerAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const W = T.missingInputWindow;
  const dep = (type: JobType) => workerDeployment(type);
  const depLabels = (type: JobType) => ({ namespace: ns, deployment: dep(type) });

  // ---- inputs for the examples: a healthy pipeline, then one fault at a time
  /** kube-state-metrics for every worker Deployment: `want` replicas wanted, `available` of them available. */
  const deployments = (over: Partial<Record<JobType, { want: number; available: number } | "absent">> = {}, minutes = 20): InputSeries[] =>
    JOB_TYPES.flatMap((t) => {
      const o = over[t] ?? { want: 2, available: 2 };
      if (o === "absent") return [];
      return [input(kubeDeploymentSpecReplicas, depLabels(t), `${o.want}x${minutes}`), input(kubeDeploymentStatusReplicasAvailable, depLabels(t), `${o.available}x${minutes}`)];
    });
  const workerPod = (type: JobType, n: number) => `${dep(type)}-5d8f7c9b4-${["x2k4q", "p7w9z"][n] ?? `pod${n}`}`;
  const podUp = (type: JobType, n: number, values: string) => input(up, { job: WORKER_SCRAPE_JOB, namespace: ns, pod: workerPod(type, n) }, values);
  const queue = (type: JobType, ready: string, consumers: string) => [
    input(rabbitmqQueueMessagesReady, { vhost: "/", queue: workQueue(type) }, ready),
    input(rabbitmqQueueConsumers, { vhost: "/", queue: workQueue(type) }, consumers),
  ];
  const oldest = (over: Partial<Record<JobType, string>>, minutes = 45): InputSeries[] =>
    JOB_TYPES.map((t) => input(jobsOldestWaitingSeconds, { type: t, pod: "api-1" }, over[t] ?? `0x${minutes}`));

  const unavailableDescription = "No {{ $labels.deployment }} worker is available: its Deployment has no available replica, or none of its pods answers its scrape. Its jobs are not processed.";
  const deploymentMissingDescription = `kube-state-metrics has reported no {{ $labels.deployment }} Deployment for ${W}: it was deleted or renamed (then no such worker runs), or kube-state-metrics is down.`;
  const workersDescription = `{{ if $labels.${MISSING_LABEL} }}${deploymentMissingDescription}{{ else }}${unavailableDescription}{{ end }}`;
  const rendered = (description: string, deployment: string) => description.replaceAll("{{ $labels.deployment }}", deployment);

  const workersUnavailable = perSeverity((severity, types, first) => {
    const names = types.map(dep);
    const matcher = `namespace=${JSON.stringify(ns)}, deployment=~${JSON.stringify(anyOf(names))}`;
    const podMatcher = `job=${JSON.stringify(WORKER_SCRAPE_JOB)}, namespace=${JSON.stringify(ns)}, pod=~${JSON.stringify(podsOf(names))}`;
    const examples: AlertExample[] = [
      {
        name: "every translation worker unavailable fires",
        at: "15m",
        input: deployments({ translation: { want: 2, available: 0 } }),
        fires: [{ labels: depLabels("translation"), description: rendered(unavailableDescription, dep("translation")) }],
      },
      {
        // The shape of issue 17: every worker pod down (up == 0) while work waits.
        name: "every translation worker pod failing its scrape fires",
        at: "15m",
        input: [...deployments(), podUp("translation", 0, "1 1 0x18"), podUp("translation", 1, "1 1 0x18"), podUp("image", 0, "1x20")],
        fires: [{ labels: depLabels("translation"), description: rendered(unavailableDescription, dep("translation")) }],
      },
      {
        name: "one of two workers down stays silent",
        at: "15m",
        input: [...deployments({ translation: { want: 2, available: 1 } }), podUp("translation", 0, "0x20"), podUp("translation", 1, "1x20")],
        fires: [],
      },
      { name: "a type scaled to zero with nothing to do stays silent", at: "15m", input: deployments({ push: { want: 0, available: 0 } }), fires: [] },
      {
        name: "no Deployment series (input missing: deleted, renamed, or kube-state-metrics down) fires",
        at: "15m",
        input: deployments({ push: "absent" }),
        fires: [{ labels: { ...depLabels("push"), [MISSING_LABEL]: kubeDeploymentStatusReplicasAvailable.name }, description: rendered(deploymentMissingDescription, dep("push")) }],
        missingInput: true,
      },
      {
        name: "source-check workers unavailable only warn",
        at: "15m",
        input: deployments({ source_check: { want: 2, available: 0 } }),
        fires: [{ labels: { ...depLabels("source_check"), severity: SEVERITY.warning }, description: rendered(unavailableDescription, dep("source_check")) }],
      },
    ];
    return {
      name: "JobWorkersUnavailable",
      expr:
        `(max by (namespace, deployment) (${sel(kubeDeploymentSpecReplicas, matcher)}) > 0 unless max by (namespace, deployment) (${sel(kubeDeploymentStatusReplicasAvailable, matcher)}) > 0)` +
        ` or (max by (namespace, deployment) (label_replace(${sel(up, podMatcher)}, "deployment", "$1", "pod", ${JSON.stringify(podsOf(names))})) == 0)` +
        names.map((d) => ` or ${missing(kubeDeploymentStatusReplicasAvailable, { namespace: ns, deployment: d }, W)}`).join(""),
      for: T.workersUnavailableFor,
      severity,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      ...(severity === SEVERITY.critical
        ? {
            missingInput: {
              kind: "fires" as const,
              decision: `No kube-state-metrics series for a worker Deployment for ${W} fires: the Deployment was deleted or renamed (no such worker runs), or kube-state-metrics is down. No \`up\` series for a type's pods reads as nothing known, and the Deployment's replicas decide.`,
            },
          }
        : {}),
      summary: "No worker of a job type is available.",
      description: workersDescription,
      dashboards: [DASHBOARD_UIDS.jobs, DASHBOARD_UIDS.infrastructure],
      examples: first ? examples : [],
      ...(first
        ? {
            runbook: {
              whatIsHappening: `For ${T.workersUnavailableFor}, a worker Deployment (\`worker-<type>\`) has wanted replicas but none available, or every one of its pods fails its scrape, or kube-state-metrics has not reported the Deployment for ${W}. Critical for ${PAGING_JOB_TYPES.join(", ")} (the product's main path); a warning for source_check (background re-verification every 6 h).`,
              impact: "Jobs of that type are not processed: new products stop at that pipeline step (import, translation, image processing or push) and its queue grows.",
              queries: [
                { purpose: "Available vs wanted replicas per worker Deployment", promql: `${sel(kubeDeploymentStatusReplicasAvailable, `namespace=${JSON.stringify(ns)}, deployment=~"worker-.+"`)} or ${sel(kubeDeploymentSpecReplicas, `namespace=${JSON.stringify(ns)}, deployment=~"worker-.+"`)}` },
                { purpose: "Scrape health of every worker pod", promql: sel(up, { job: WORKER_SCRAPE_JOB, namespace: ns }) },
                { purpose: "Messages waiting per work queue", promql: `max by (queue) (${sel(jobsQueueDepth)})` },
              ],
              commands: [
                { purpose: "Worker pods, their state and restarts", command: `kubectl -n ${ns} get pods -l app.kubernetes.io/component=worker -o wide` },
                { purpose: "Why a Deployment has no available replica (events, conditions)", command: `kubectl -n ${ns} describe deployment <worker-type>` },
                { purpose: "Logs of the crashing or unready workers", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=<worker-type> --prefix --since=15m --previous` },
                { purpose: "Readiness detail (database, broker) of one pod, on its metrics listener", command: `kubectl -n ${ns} port-forward deploy/<worker-type> ${METRICS_PORT} & curl -s localhost:${METRICS_PORT}/readyz` },
                { purpose: "KEDA's view of the queue and the replica count it asks for", command: `kubectl -n ${ns} get scaledobject <worker-type> -o yaml` },
              ],
              mitigation: [
                "If the database or the broker is down, the workers are unready because of it: follow DatabaseConnectionFailed, or restore the broker; the workers recover on their own.",
                "If the latest release crashes the workers, roll back (procedures/rollback.md).",
                "If pods are Pending (no node capacity, image pull errors), fix the node group or the image tag.",
                "If the description says the Deployment is not reported, check kube-state-metrics (kubectl -n monitoring get pods | grep kube-state-metrics) and that the Deployment exists.",
              ],
              escalation: "Critical types: platform on-call via PagerDuty. source_check: chat, platform team in working hours.",
              procedures: ["rollback"],
            },
          }
        : {}),
    };
  });

  const withoutConsumers = perSeverity((severity, types, first) => {
    const qm = `queue=~${JSON.stringify(anyOf(types.map((t) => workQueue(t))))}`;
    const description = "{{ $value }} messages wait in the {{ $labels.queue }} queue and nothing consumes it.";
    const examples: AlertExample[] = [
      {
        name: "translation messages with no consumer for 5 minutes fire",
        at: "10m",
        input: queue("translation", "0+4x10", "2 2 0x8"),
        fires: [{ labels: { queue: workQueue("translation") }, description: `40 messages wait in the ${workQueue("translation")} queue and nothing consumes it.` }],
      },
      { name: "messages with consumers stay silent", at: "10m", input: queue("translation", "0+4x10", "2x10"), fires: [] },
      { name: "an empty queue without consumers stays silent", at: "10m", input: queue("push", "0x10", "0x10"), fires: [] },
      { name: "a short gap between consumers stays silent", at: "10m", input: queue("image", "5x10", "2x5 0 0 2x3"), fires: [] },
      {
        name: "source-check messages without consumers only warn",
        at: "10m",
        input: queue("source_check", "7x10", "0x10"),
        fires: [{ labels: { queue: workQueue("source_check"), severity: SEVERITY.warning }, description: `7 messages wait in the ${workQueue("source_check")} queue and nothing consumes it.` }],
      },
    ];
    return {
      name: "JobQueueWithoutConsumers",
      expr: `sum by (queue) (${sel(rabbitmqQueueMessagesReady, qm)}) > 0 and on (queue) sum by (queue) (${sel(rabbitmqQueueConsumers, qm)}) == 0`,
      for: T.noConsumersFor,
      severity,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      ...(severity === SEVERITY.critical
        ? {
            missingInput: {
              kind: "covered" as const,
              by: "JobQueueStalled",
              decision:
                "No RabbitMQ queue series (the exporter or the management API is down) leaves this rule quiet, because a queue it cannot see is not known to hold anything; JobQueueStalled reads the jobs table instead of the broker, and fires when the jobs stop moving.",
            },
          }
        : {}),
      summary: "A work queue holds messages and has no consumer.",
      description,
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: first ? examples : [],
      ...(first
        ? {
            runbook: {
              whatIsHappening: `For ${T.noConsumersFor}, a work queue (\`jobs.<type>\`) has held ready messages while RabbitMQ reports no consumer on it. Critical for ${PAGING_JOB_TYPES.join(", ")}, a warning for source_check.`,
              impact: "Nothing takes the jobs of that type: the pipeline step stops, even if worker pods look healthy (a consumer that was cancelled, or a worker that lost its channel and did not recover).",
              queries: [
                { purpose: "Ready messages and consumers per work queue", promql: `sum by (queue) (${sel(rabbitmqQueueMessagesReady)}) or sum by (queue) (${sel(rabbitmqQueueConsumers)})` },
                { purpose: "Unacknowledged messages (delivered, not finished)", promql: `sum by (queue) (${sel(rabbitmqQueueMessagesUnacknowledged)})` },
              ],
              commands: [
                { purpose: "Consumers per queue from the Amazon MQ management API", command: "curl -s -u \"$MQ_USER:$MQ_PASSWORD\" \"$MQ_MANAGEMENT_URL/api/queues\" | jq '.[] | {name, messages_ready, consumers}'" },
                { purpose: "Worker logs about the broker connection or channel", command: `kubectl -n ${ns} logs -l app.kubernetes.io/component=worker --prefix --since=15m | grep -i -E 'amqp|channel|consumer'` },
                { purpose: "Worker pods of the type", command: `kubectl -n ${ns} get pods -l app.kubernetes.io/name=<worker-type>` },
              ],
              mitigation: [
                "If the workers of the type are down, follow JobWorkersUnavailable.",
                "If they run but do not consume, restart them: kubectl -n " + ns + " rollout restart deployment/<worker-type>; they declare the queue and consume again on start.",
                "If the queue was deleted and recreated by hand, restart the workers too (they consume from the queue they declared).",
              ],
              escalation: "Critical types: platform on-call via PagerDuty. source_check: chat, platform team in working hours.",
            },
          }
        : {}),
    };
  });

  const stalled = perSeverity((severity, types, first) => {
    const tm = `type=~${JSON.stringify(anyOf(types))}`;
    const minutes = T.oldestWaitingSeconds / 60;
    const description = "The oldest waiting {{ $labels.type }} job has waited {{ $value | humanizeDuration }}.";
    const examples: AlertExample[] = [
      {
        name: "a small translation queue that has not moved for 40 minutes fires",
        at: "40m",
        input: oldest({ translation: "0+60x45" }),
        fires: [{ labels: { type: "translation" }, description: "The oldest waiting translation job has waited 40m 0s." }],
      },
      { name: "a job waiting 10 minutes stays silent", at: "40m", input: oldest({ translation: "0x30 0+60x15" }), fires: [] },
      { name: "nothing waiting stays silent", at: "40m", input: oldest({}), fires: [] },
      {
        // The broker's view is gone (JobQueueWithoutConsumers cannot see the queue): the jobs table still shows the stall.
        name: "a stalled push queue with no RabbitMQ series (input missing of JobQueueWithoutConsumers) fires",
        at: "40m",
        input: oldest({ push: "0+60x45" }),
        fires: [{ labels: { type: "push" }, description: "The oldest waiting push job has waited 40m 0s." }],
        missingInput: true,
      },
      {
        name: "a stalled source-check queue only warns",
        at: "40m",
        input: oldest({ source_check: "0+60x45" }),
        fires: [{ labels: { type: "source_check", severity: SEVERITY.warning }, description: "The oldest waiting source_check job has waited 40m 0s." }],
      },
    ];
    return {
      name: "JobQueueStalled",
      expr: `max by (type) (${sel(jobsOldestWaitingSeconds, tm)}) > ${T.oldestWaitingSeconds}`,
      for: T.stalledFor,
      severity,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      ...(severity === SEVERITY.critical
        ? {
            missingInput: {
              kind: "covered" as const,
              by: "ApiUnavailable",
              decision:
                "Every API and worker process exports the age (0 when nothing waits), so it is missing only when no API target is scraped (ApiUnavailable fires) or the database does not answer the scrape-time query (DatabaseConnectionFailed fires).",
            },
          }
        : {}),
      summary: `A job has waited more than ${minutes} minutes to run.`,
      description,
      dashboards: [DASHBOARD_UIDS.jobs],
      examples: first ? examples : [],
      ...(first
        ? {
            runbook: {
              whatIsHappening: `The oldest job of a type that is due to run (pending, or failed with its retry due) has waited more than ${minutes} minutes (\`${jobsOldestWaitingSeconds.name}\`, read from the jobs table at scrape time). However small the queue, the step has not moved: no consumer, a consumer stuck on one message, a message lost between the table and the broker, or a backlog the workers cannot keep up with. Critical for ${PAGING_JOB_TYPES.join(", ")}, a warning for source_check.`,
              impact: "Products wait at that pipeline step; users see imports, translations, images or pushes that do not finish.",
              queries: [
                { purpose: "Oldest waiting job per type, in seconds", promql: `max by (type) (${sel(jobsOldestWaitingSeconds)})` },
                { purpose: "Jobs completed per type and second", promql: `sum by (type) (rate(${sel(jobsCompletedTotal)}[15m]))` },
                { purpose: "Messages waiting and consumers per work queue", promql: `sum by (queue) (${sel(rabbitmqQueueMessagesReady)}) or sum by (queue) (${sel(rabbitmqQueueConsumers)})` },
              ],
              commands: [
                {
                  purpose: "The oldest waiting jobs of a type and whether the broker confirmed them (published)",
                  command: "psql \"$DATABASE_URL\" -c \"SELECT id, status, attempts, published, updated_at, run_at, last_error FROM jobs WHERE type = '<type>' AND (status = 'pending' OR (status = 'failed' AND run_at <= now())) ORDER BY coalesce(run_at, updated_at) LIMIT 20\"",
                },
                {
                  purpose: "Publish intents older than a minute (a batch committed as published whose broker confirmation never came: its process died; the relay puts its pending jobs back into the outbox)",
                  command: "psql \"$DATABASE_URL\" -c \"SELECT id, cardinality(job_ids) AS jobs, created_at FROM job_publish_intents WHERE created_at < now() - interval '1 minute' ORDER BY created_at LIMIT 20\"",
                },
                { purpose: "Queue state from the Amazon MQ management API", command: "curl -s -u \"$MQ_USER:$MQ_PASSWORD\" \"$MQ_MANAGEMENT_URL/api/queues\" | jq '.[] | {name, messages_ready, messages_unacknowledged, consumers}'" },
                { purpose: "Worker logs of the type", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=<worker-type> --prefix --since=30m | tail -50` },
              ],
              mitigation: [
                "No consumer or no worker: follow JobQueueWithoutConsumers or JobWorkersUnavailable.",
                "Jobs pending with published = false, or publish intents older than a minute: the outbox relay republishes them (an old intent's jobs first go back to published = false); if they stay, the scheduler (which runs the outbox) is down: kubectl -n " + ns + " get deploy scheduler.",
                "Workers busy but slow (a backlog): raise the type's maxReplicas in the stack config, or check the dependency the handler waits for (see WorkerSaturated, JobsStuck).",
                "A consumer stuck on one message: restart the workers of the type (kubectl -n " + ns + " rollout restart deployment/<worker-type>); the job is redelivered.",
              ],
              escalation: "Critical types: platform on-call via PagerDuty. source_check: chat, platform team in working hours.",
              procedures: ["dlq-review-and-replay"],
            },
          }
        : {}),
    };
  });

  return [...workersUnavailable, ...withoutConsumers, ...stalled];
}
