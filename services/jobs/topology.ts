/**
 * The single source of queue names and queue arguments, per job type. Infra (KEDA scalers)
 * and alerts import from here; the engine declares exactly what this module describes.
 *
 * Per job type, within a namespace (a name prefix; tests use one per file):
 *   <ns>jobs.<type>                 work queue: durable quorum queue, consumed by workers
 *   <ns>jobs.<type>.retry.<ms>ms    one delay queue per backoff level: fixed x-message-ttl,
 *                                   dead-letters back into the work queue when the TTL expires
 *   <ns>jobs.<type>.dead            broker-side dead letters (delivery-limit backstop); the
 *                                   engine drains it into the jobs table as `dead`
 * Per-level delay queues keep ordering honest: every message in a queue has the same TTL, so
 * a 16 s message never blocks a 1 s one (which a per-message TTL in a shared queue would).
 */
import { JOB_TYPES, type JobType } from "./types.js";
import { retryDelays, type RetryPolicy } from "./retry-policy.js";

/** Prefix of every job queue name. */
export const JOB_QUEUE_PREFIX = "jobs.";

/**
 * Broker backstop against crash loops (a message that kills its worker every time, before
 * the engine could claim it). The engine counts attempts itself; this only catches what the
 * engine never saw. JOB_DELIVERY_LIMIT overrides it (tests); production keeps this value.
 */
export const DELIVERY_LIMIT_BACKSTOP = 20;

export function workQueue(type: JobType, namespace = ""): string {
  return `${namespace}${JOB_QUEUE_PREFIX}${type}`;
}

export function retryQueue(type: JobType, delayMs: number, namespace = ""): string {
  return `${workQueue(type, namespace)}.retry.${delayMs}ms`;
}

export function deadLetterQueue(type: JobType, namespace = ""): string {
  return `${workQueue(type, namespace)}.dead`;
}

/** Distinct delays in ascending order (levels with the same capped delay share a queue). */
export function retryLevels(policy: RetryPolicy): number[] {
  return [...new Set(retryDelays(policy))].sort((a, b) => a - b);
}

export interface QueueSpec {
  readonly queue: string;
  readonly role: "work" | "retry" | "dead";
  readonly type: JobType;
  readonly arguments: Record<string, unknown>;
}

/** Every queue for one type, with its declare arguments. */
export function queuesFor(type: JobType, policy: RetryPolicy, namespace = "", deliveryLimit = DELIVERY_LIMIT_BACKSTOP): QueueSpec[] {
  const work = workQueue(type, namespace);
  const quorum = { "x-queue-type": "quorum" };
  return [
    {
      queue: work,
      role: "work",
      type,
      arguments: {
        ...quorum,
        "x-delivery-limit": deliveryLimit,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": deadLetterQueue(type, namespace),
      },
    },
    ...retryLevels(policy).map(
      (delayMs): QueueSpec => ({
        queue: retryQueue(type, delayMs, namespace),
        role: "retry",
        type,
        arguments: {
          ...quorum,
          "x-message-ttl": delayMs,
          "x-dead-letter-exchange": "",
          "x-dead-letter-routing-key": work,
          // Quorum queues can dead-letter at-least-once (RabbitMQ >= 3.10): no retry is lost
          // between the delay queue and the work queue.
          "x-dead-letter-strategy": "at-least-once",
          "x-overflow": "reject-publish",
        },
      }),
    ),
    { queue: deadLetterQueue(type, namespace), role: "dead", type, arguments: { ...quorum } },
  ];
}

/** The whole topology of a namespace, for the given types (all five by default). */
export function topology(policy: RetryPolicy, namespace = "", types: readonly JobType[] = JOB_TYPES, deliveryLimit = DELIVERY_LIMIT_BACKSTOP): QueueSpec[] {
  return types.flatMap((t) => queuesFor(t, policy, namespace, deliveryLimit));
}

/**
 * Message properties: the job id is the AMQP message-id (x-job-id is read as a fallback for
 * messages published by hand); the type is implied by the queue.
 */
export const HEADERS = {
  jobId: "x-job-id",
  /** Attempts already made when this message was published (0 for a fresh job). */
  attempt: "x-attempt",
  requestId: "x-request-id",
} as const;
