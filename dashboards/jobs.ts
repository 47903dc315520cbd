/** Jobs dashboard: queue depth, oldest waiting job, processing time, success/failure, retries, dead letters, worker utilization. */
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import {
  jobProcessingDuration,
  jobsCompletedTotal,
  jobsDeadLetterSize,
  jobsDeadLetteredTotal,
  jobsFailedTotal,
  jobsInFlight,
  jobsOldestWaitingSeconds,
  jobsOutboxPending,
  jobsQueueDepth,
  jobsRetriesTotal,
  jobsStartedTotal,
  jobsStuckDetectedTotal,
  workerBusySecondsTotal,
  workerConcurrency,
} from "../services/metrics.js";
import { rabbitmqQueueConsumers, rabbitmqQueueMessagesReady, rabbitmqQueueMessagesUnacknowledged } from "../services/metrics-exporters.js";
import { bucket, sel } from "../alerts/promql.js";
import type { MetricDef } from "../services/metric-def.js";
import type { DashboardJson } from "./dashboard-json.js";
import { RATE, dashboard, panel } from "./panels.js";
import { DASHBOARD_UIDS } from "./uids.js";

const perType = (m: MetricDef) => `sum by (type) (rate(${sel(m)}[${RATE}]))`;

export function jobsDashboard(): DashboardJson {
  return dashboard({
    uid: DASHBOARD_UIDS.jobs,
    title: "Product platform / Jobs",
    description: "The job engine: queues, throughput, failures, retries, dead letters and worker capacity.",
    tags: ["product-platform", "jobs"],
    panels: [
      panel(new TimeseriesBuilder(), {
        title: "Queue depth",
        description: "Messages ready in each job queue, as the application reads it from the broker. Alerts warn above 1000 for 15 minutes.",
        unit: "short",
        queries: [{ expr: `max by (queue) (${sel(jobsQueueDepth)})`, legend: "{{queue}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Oldest waiting job",
        description: "How long the oldest job due to run has waited, by type (from the jobs table). A queue that does not move shows here whatever its depth; above 30 minutes pages for the main-path types.",
        unit: "s",
        queries: [{ expr: `max by (type) (${sel(jobsOldestWaitingSeconds)})`, legend: "{{type}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "RabbitMQ ready and unacked",
        description: "Ready and unacknowledged messages per queue from the RabbitMQ exporter (management API of Amazon MQ).",
        unit: "short",
        queries: [
          { expr: `sum by (queue) (${sel(rabbitmqQueueMessagesReady)})`, legend: "{{queue}} ready" },
          { expr: `sum by (queue) (${sel(rabbitmqQueueMessagesUnacknowledged)})`, legend: "{{queue}} unacked" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Processing time p50 / p95",
        description: "Handler run time per job type, from the processing-duration histogram.",
        unit: "s",
        queries: [
          { expr: `histogram_quantile(0.5, sum by (le, type) (rate(${bucket(jobProcessingDuration)}[${RATE}])))`, legend: "{{type}} p50" },
          { expr: `histogram_quantile(0.95, sum by (le, type) (rate(${bucket(jobProcessingDuration)}[${RATE}])))`, legend: "{{type}} p95" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Success and failure rate",
        description: "Jobs completed and job attempts failed per second, by type.",
        unit: "ops",
        queries: [
          { expr: perType(jobsCompletedTotal), legend: "{{type}} completed" },
          { expr: perType(jobsFailedTotal), legend: "{{type}} failed" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Failure ratio",
        description: "Failed attempts divided by started attempts, by type. Imports warn above 10%.",
        unit: "percentunit",
        queries: [{ expr: `${perType(jobsFailedTotal)} / ${perType(jobsStartedTotal)}`, legend: "{{type}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Retries",
        description: "Retries scheduled per second, by job type and the attempt that will run next.",
        unit: "ops",
        queries: [{ expr: `sum by (type, attempt) (rate(${sel(jobsRetriesTotal)}[${RATE}]))`, legend: "{{type}} attempt {{attempt}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Dead-letter queue",
        description: "Dead jobs waiting for an operator, by type (admins are notified when it is not empty).",
        unit: "short",
        queries: [{ expr: `max by (type) (${sel(jobsDeadLetterSize)})`, legend: "{{type}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Dead-lettering rate",
        description: "Jobs moved to the dead-letter queue per second after exhausting their retries.",
        unit: "ops",
        queries: [{ expr: perType(jobsDeadLetteredTotal), legend: "{{type}}" }],
      }),
      panel(new TimeseriesBuilder().max(1), {
        title: "Worker utilization",
        description: "Busy handler seconds per second divided by configured concurrency, by type. Above 90% for 15 minutes warns.",
        unit: "percentunit",
        queries: [{ expr: `sum by (type) (rate(${sel(workerBusySecondsTotal)}[${RATE}])) / sum by (type) (${sel(workerConcurrency)})`, legend: "{{type}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "In flight and consumers",
        description: "Jobs being processed right now by type, and consumers attached to each RabbitMQ queue.",
        unit: "short",
        queries: [
          { expr: `sum by (type) (${sel(jobsInFlight)})`, legend: "{{type}} in flight" },
          { expr: `sum by (queue) (${sel(rabbitmqQueueConsumers)})`, legend: "{{queue}} consumers" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Stuck jobs detected",
        description: "Jobs found processing past their timeout per second, by type and action (requeued or failed).",
        unit: "ops",
        queries: [{ expr: `sum by (type, action) (rate(${sel(jobsStuckDetectedTotal)}[${RATE}]))`, legend: "{{type}} {{action}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Publish outbox",
        description: "Jobs written to Postgres but not yet confirmed by the broker. A growing outbox means the broker is unreachable.",
        unit: "short",
        queries: [{ expr: `max(${sel(jobsOutboxPending)})`, legend: "pending" }],
      }),
    ],
  });
}
