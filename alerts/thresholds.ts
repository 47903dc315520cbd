/** Every alerting threshold and window, in one place; rules, dashboards and runbooks read them here. */
export const THRESHOLDS = {
  /** Below this request rate (req/s) the API counts as idle: ratio alerts stay silent. */
  minRequestRate: 0.1,
  /** Below this job start rate (jobs/s) a job type counts as idle. */
  minJobRate: 0.01,
  errorRatio: 0.05,
  http500PerMinute: 10,
  latencyP95Seconds: 1,
  dbQueryP95Seconds: 0.1,
  nodeCpuRatio: 0.8,
  nodeMemoryRatio: 0.9,
  diskUsedRatio: 0.85,
  importFailureRatio: 0.1,
  translationQueueDepth: 1000,
  jobQueueDepth: 1000,
  workerUtilization: 0.9,
  sourceCheckSuccessRatio: 0.9,
  /** How far past its retention the oldest completed job may be before retention counts as behind, in seconds. */
  jobRetentionOverdueSeconds: 6 * 3600,
  /** Replica lag that pages, in seconds. */
  replicationLagSeconds: 60,
  /** Recovery point objective: the newest backup may be at most this old, in seconds. */
  rpoSeconds: 3600,
  /**
   * How long an input series of a critical alert may be absent before the absence itself fires
   * (absent_over_time window): long enough for an exporter restart or a missed scrape.
   */
  missingInputWindow: "10m",
  /** Every worker of a job type unavailable for this long fires. */
  workersUnavailableFor: "5m",
  /** A work queue holding messages with no consumer for this long fires. */
  noConsumersFor: "5m",
  /** The oldest due job of a type waiting longer than this, in seconds, is a stall, however small its queue. */
  oldestWaitingSeconds: 1800,
  /** ...for this long (one slow scrape is not a stall). */
  stalledFor: "2m",
} as const;
