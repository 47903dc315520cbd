/**
 * Retry policy: exponential backoff from a base delay, doubling, capped, for a bounded number
 * of retries. The numbers come from config (JOB_RETRY_BASE_MS, JOB_RETRY_MAX_MS,
 * JOB_MAX_RETRIES); this module is the one place that turns them into delays.
 */
export interface RetryPolicy {
  /** Delay before the first retry, in ms (production: 1000). */
  readonly baseMs: number;
  /** Upper bound for any single delay, in ms (production: 60000). */
  readonly maxMs: number;
  /** Retries after the first attempt (production: 5); attempts = 1 + maxRetries. */
  readonly maxRetries: number;
}

/** Delay before retry number `retry` (1-based): base * 2^(retry-1), capped at maxMs. */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1));
}

/** Every retry's delay, in order: [1000, 2000, 4000, 8000, 16000] with production defaults. */
export function retryDelays(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.maxRetries }, (_, i) => retryDelayMs(policy, i + 1));
}

/** Total attempts a job gets: the first one plus the retries. */
export function maxAttempts(policy: RetryPolicy): number {
  return policy.maxRetries + 1;
}
