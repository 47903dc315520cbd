/**
 * The engine's metrics: the catalog objects of services/metrics.ts, registered once per
 * registry. Scrape-time gauges (queue depth, dead-letter size, outbox, oldest waiting job) read
 * the broker and the database when Prometheus asks.
 */
import type { Connection } from "rabbitmq-client";
import {
  jobProcessingDuration,
  jobsArchivedTotal,
  jobsCompletedTotal,
  jobsDeadLetteredTotal,
  jobsDeadLetterSize,
  jobsFailedTotal,
  jobsInFlight,
  jobsOldestWaitingSeconds,
  jobsOutboxPending,
  jobsQueueDepth,
  jobsRetentionOverdueSeconds,
  jobsRetentionRemovedTotal,
  jobsRetriesTotal,
  jobsStartedTotal,
  jobsStuckDetectedTotal,
  jobsTableBytes,
  workerBusySecondsTotal,
  workerConcurrency,
} from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import type { JobStore } from "./job-store.js";
import { retentionOverdue, type RetentionPolicy } from "./retention.js";
import { JOB_TYPES, type JobType } from "./types.js";

export interface MetricSources {
  broker: Connection;
  store: JobStore;
  queues: () => string[];
  retention: () => RetentionPolicy;
  types: readonly JobType[];
  clock: () => Date;
  /** Handlers running now, per type (read at scrape time: no gauge update per job). */
  inFlight: () => Iterable<readonly [JobType, number]>;
}

export function engineMetrics(registry: MetricsRegistry, sources: MetricSources) {
  return {
    started: registry.counter(jobsStartedTotal),
    completed: registry.counter(jobsCompletedTotal),
    failed: registry.counter(jobsFailedTotal),
    retries: registry.counter(jobsRetriesTotal),
    deadLettered: registry.counter(jobsDeadLetteredTotal),
    duration: registry.histogram(jobProcessingDuration),
    inFlight: registry.gauge(jobsInFlight, (g) => {
      for (const [type, n] of sources.inFlight()) g.set({ type }, n);
    }),
    busySeconds: registry.counter(workerBusySecondsTotal),
    concurrency: registry.gauge(workerConcurrency),
    stuck: registry.counter(jobsStuckDetectedTotal),
    archived: registry.counter(jobsArchivedTotal),
    queueDepth: registry.gauge(jobsQueueDepth, async (g) => {
      if (!sources.broker.ready) return;
      await Promise.all(
        sources.queues().map(async (queue) => {
          try {
            const ok = await sources.broker.queueDeclare({ queue, passive: true });
            g.set({ queue }, ok.messageCount);
          } catch {
            // Not declared (yet) or broker unavailable: no sample rather than a wrong one.
          }
        }),
      );
    }),
    deadLetterSize: registry.gauge(jobsDeadLetterSize, async (g) => {
      const counts = await sources.store.deadCounts().catch(() => undefined);
      if (counts) for (const type of JOB_TYPES) g.set({ type }, counts.get(type) ?? 0);
    }),
    retentionRemoved: registry.counter(jobsRetentionRemovedTotal),
    retentionOverdue: registry.gauge(jobsRetentionOverdueSeconds, async (g) => {
      const overdue = await retentionOverdue(sources.store, sources.retention(), sources.clock(), sources.types).catch(() => undefined);
      if (overdue) for (const [type, s] of overdue) g.set({ type }, s);
    }),
    tableBytes: registry.gauge(jobsTableBytes, async (g) => {
      const n = await sources.store.tableBytes().catch(() => undefined);
      if (n !== undefined) g.set(n);
    }),
    outboxPending: registry.gauge(jobsOutboxPending, async (g) => {
      const n = await sources.store.outboxSize().catch(() => undefined);
      if (n !== undefined) g.set(n);
    }),
    // 0 for a type with nothing waiting; no sample at all when the database cannot answer (an
    // age that stops growing during an outage would read as progress).
    oldestWaiting: registry.gauge(jobsOldestWaitingSeconds, async (g) => {
      const ages = await sources.store.oldestWaitingSeconds(new Date()).catch(() => undefined);
      g.reset();
      if (ages) for (const type of JOB_TYPES) g.set({ type }, ages.get(type) ?? 0);
    }),
  };
}

export type EngineMetrics = ReturnType<typeof engineMetrics>;
