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
  jobsRetriesTotal,
  jobsStartedTotal,
  jobsStuckDetectedTotal,
  workerBusySecondsTotal,
  workerConcurrency,
} from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import type { JobStore } from "./job-store.js";
import { JOB_TYPES } from "./types.js";

export function engineMetrics(registry: MetricsRegistry, sources: { broker: Connection; store: JobStore; queues: () => string[] }) {
  return {
    started: registry.counter(jobsStartedTotal),
    completed: registry.counter(jobsCompletedTotal),
    failed: registry.counter(jobsFailedTotal),
    retries: registry.counter(jobsRetriesTotal),
    deadLettered: registry.counter(jobsDeadLetteredTotal),
    duration: registry.histogram(jobProcessingDuration),
    inFlight: registry.gauge(jobsInFlight),
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
