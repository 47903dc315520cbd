/**
 * The job engine: durable, at-least-once jobs on RabbitMQ quorum queues with their state in
 * Postgres. The `jobs` row is the source of truth; the broker carries the work.
 *
 * Life of a job:
 *   enqueue   outbox.ts: the row is written (`pending`, unpublished), then the message is
 *             published with confirms; the relay publishes whatever was not confirmed.
 *   claim     worker.ts: a fresh delivery runs at once, its claim folded into its outcome
 *             write when the handler is quick; a redelivery is claimed (`processing`,
 *             attempts + 1) before it runs, so a crash loop ends in `dead`.
 *   run       attempt.ts: the handler runs in a slot, with a timeout and an abort signal.
 *   record    worker.ts: the outcome (`completed`; `failed` with the retry published to the
 *             delay queue of its backoff level; or `dead`) is group-committed with its
 *             neighbours (batcher.ts, job-store.ts), and only then is the message acked;
 *             the acks of one commit leave as one frame (consumer.ts).
 *   retire    retention.ts: completed rows are removed after their type's retention, in
 *             small batches; dead rows go to the archive (schedulers.ts), never deleted.
 * Attempts are counted in the x-attempt header and in the table; the queue's
 * x-delivery-limit only backstops messages that kill their consumer before any claim, and
 * the engine records those `dead` from the broker's dead-letter queue.
 */
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from "rabbitmq-client";
import type { Config } from "../config.js";
import type { Database } from "../db/client.js";
import { jobLogger, type Logger } from "../logger.js";
import type { SqlExecutor } from "../db/migrations.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { RunningHandler, type Attempt, type Outcome } from "./attempt.js";
import { Batcher } from "./batcher.js";
import { JobTimeoutError } from "./errors.js";
import { engineMetrics, type EngineMetrics } from "./engine-metrics.js";
import { JobStore, type Claim, type ClaimRequest, type Finish } from "./job-store.js";
import { Outbox, isJobId, raceTimeout, type EnqueueItem, type EnqueueOptions } from "./outbox.js";
import { DEFAULT_RETENTION, retentionPolicy, type RetentionPolicy } from "./retention.js";
import { maxAttempts, type RetryPolicy } from "./retry-policy.js";
import { DELIVERY_LIMIT_BACKSTOP, HEADERS, queuesFor, topology } from "./topology.js";
import { JOB_TYPES, type JobHandler, type JobType } from "./types.js";
import { JobWorker, messageJobId, stringHeader, type Registration, type WorkerContext } from "./worker.js";

export type { EnqueueItem, EnqueueOptions };

export interface JobEngineConfig {
  /** Queue name prefix; each test file uses its own. */
  readonly namespace?: string;
  readonly retry: RetryPolicy;
  /** Handler slots per type unless register() says otherwise. */
  readonly concurrency: number;
  /** Messages prefetched per type; default twice the concurrency. */
  readonly prefetch?: number;
  /** Default handler timeout per attempt, in ms. */
  readonly timeoutMs: number;
  /** Extra time past the timeout before a `processing` job counts as stuck. */
  readonly stuckGraceMs?: number;
  readonly outboxIntervalMs?: number;
  /** How old an unpublished row must be before the relay publishes it (enqueue is still on it). */
  readonly outboxGraceMs?: number;
  /** Group-commit window and size. */
  readonly commitLingerMs?: number;
  readonly commitMaxBatch?: number;
  readonly shutdownDeadlineMs: number;
  readonly publishTimeoutMs?: number;
  /** Types whose queues this engine declares and measures (all five by default). */
  readonly types?: readonly JobType[];
  /** Per-type handler timeouts known to every process (the stuck detector runs without handlers). */
  readonly timeouts?: Partial<Record<JobType, number>>;
  /** The work queues' x-delivery-limit (JOB_DELIVERY_LIMIT; production keeps the default). */
  readonly deliveryLimit?: number;
  /** How long completed jobs are kept (JOB_RETENTION_*); 7 days for every type by default. */
  readonly retention?: RetentionPolicy;
  /** Called after each outcome is committed (benchmarks time enqueue-to-completed with it). */
  readonly onRecorded?: (jobId: string, status: Finish["status"]) => void;
}

export function jobEngineConfig(config: Config, overrides: Partial<JobEngineConfig> = {}): JobEngineConfig {
  return {
    namespace: config.JOB_QUEUE_NAMESPACE,
    retry: { baseMs: config.JOB_RETRY_BASE_MS, maxMs: config.JOB_RETRY_MAX_MS, maxRetries: config.JOB_MAX_RETRIES },
    concurrency: config.JOB_CONCURRENCY,
    prefetch: config.JOB_PREFETCH || undefined,
    timeoutMs: config.JOB_TIMEOUT_MS,
    stuckGraceMs: config.JOB_STUCK_GRACE_MS,
    outboxIntervalMs: config.JOB_OUTBOX_INTERVAL_MS,
    shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
    deliveryLimit: config.JOB_DELIVERY_LIMIT,
    retention: retentionPolicy(config),
    ...overrides,
  };
}

export interface JobEngineDeps {
  db: Database;
  broker: Connection;
  logger: Logger;
  metrics: MetricsRegistry;
  config: JobEngineConfig;
  clock?: () => Date;
}

export interface RegisterOptions {
  concurrency?: number;
  timeoutMs?: number;
}

export { JobTimeoutError };

export class JobEngine {
  readonly store: JobStore;
  readonly metrics: EngineMetrics;
  private readonly broker: Connection;
  private readonly logger: Logger;
  private readonly config: JobEngineConfig;
  private readonly clock: () => Date;
  private readonly namespace: string;
  private readonly types: readonly JobType[];
  private readonly registrations = new Map<JobType, Registration>();
  private readonly workers: JobWorker[] = [];
  private readonly deadLetterConsumers: Consumer[] = [];
  private readonly outbox: Outbox;
  private relayTimer: NodeJS.Timeout | undefined;
  private readonly deadline = new AbortController();
  /** Handlers running now; at the shutdown deadline each is aborted and released. */
  private readonly running = new Set<RunningHandler>();
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutTick = Infinity;
  private stopping = false;
  private stopPromise: Promise<void> | undefined;
  private readonly claims: Batcher<ClaimRequest, Claim | undefined>;
  private readonly finishes: Batcher<Finish, boolean>;
  private readonly releases: Batcher<{ id: string; attempt: number }, undefined>;
  private readonly workerContext: WorkerContext;

  /** Group-commit statistics per batcher (flushes, items, time), and acks sent. */
  get batchStats() {
    const acks = { frames: 0, acked: 0, nacked: 0 };
    for (const w of this.workers) {
      acks.frames += w.consumer.stats.ackFrames;
      acks.acked += w.consumer.stats.acked;
      acks.nacked += w.consumer.stats.nacked;
    }
    return { claims: this.claims.stats, finishes: this.finishes.stats, marks: this.outbox.marks.stats, intents: this.outbox.intents.stats, enqueues: this.outbox.enqueues.stats, acks };
  }

  constructor(deps: JobEngineDeps) {
    this.broker = deps.broker;
    this.logger = deps.logger.child({ component: "jobs" });
    this.config = deps.config;
    this.clock = deps.clock ?? (() => new Date());
    this.namespace = deps.config.namespace ?? "";
    this.types = deps.config.types ?? JOB_TYPES;
    this.store = new JobStore(deps.db.sql);
    this.metrics = engineMetrics(deps.metrics, {
      broker: deps.broker,
      store: this.store,
      queues: () => this.topology().map((q) => q.queue),
      retention: () => this.retention,
      types: this.types,
      clock: this.clock,
      inFlight: () => this.workers.map((w) => [w.type, w.slots.inUse] as const),
    });
    const linger = deps.config.commitLingerMs ?? 2;
    const maxSize = deps.config.commitMaxBatch ?? 500;
    const onError = (what: string) => (err: unknown, attempt: number) =>
      this.logger.warn({ err, attempt }, `${what} failed; retrying (is the database down?)`);
    this.outbox = new Outbox({
      store: this.store,
      broker: deps.broker,
      logger: this.logger,
      clock: this.clock,
      namespace: this.namespace,
      maxAttempts: this.maxAttempts,
      lingerMs: linger,
      maxBatch: maxSize,
      graceMs: deps.config.outboxGraceMs ?? 5000,
      publishTimeoutMs: deps.config.publishTimeoutMs ?? 5000,
      stopping: () => this.stopping,
    });
    this.claims = new Batcher({
      lingerMs: linger,
      maxSize,
      onError: onError("claiming jobs"),
      flush: async (rows) => {
        // A retried write gets the same rows back, stamped with their first write's time.
        const claimed = await this.store.claim(rows, this.clock());
        return rows.map((r) => claimed.get(r.id));
      },
    });
    // Three outcome writes in flight, not two: a batch's answer waits in the event loop while
    // the deliveries around it are handled, and a third write keeps Postgres busy meanwhile
    // (no-op jobs at concurrency 32, six rounds interleaved, 6 Dec 2026: 23,232 jobs/s with
    // three, 20,602 with two, 21,852 with four; the batches stay about 110 rows either way).
    this.finishes = new Batcher({
      lingerMs: linger,
      maxInFlight: 3,
      maxSize,
      onError: onError("recording job outcomes"),
      flush: async (rows) => {
        const written = await this.store.finish(rows);
        return rows.map((r) => written.has(r.id));
      },
    });
    this.releases = new Batcher({
      lingerMs: linger,
      maxSize,
      onError: onError("releasing jobs"),
      flush: async (rows) => {
        await this.store.release(rows, this.clock());
        return rows.map(() => undefined);
      },
    });
    this.workerContext = {
      broker: deps.broker,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      retry: deps.config.retry,
      maxAttempts: this.maxAttempts,
      claims: this.claims,
      finishes: this.finishes,
      releases: this.releases,
      outbox: this.outbox,
      isStopping: () => this.stopping,
      runHandler: (reg, payload, job) => this.runHandler(reg, payload, job),
      deadLettered: (type, attempt, error, log, permanent) => this.deadLettered(type, attempt, error, log, permanent),
      onRecorded: deps.config.onRecorded,
    };
  }

  /** Completed-job retention (the scheduler's retention pass and the overdue gauge use it). */
  get retention(): RetentionPolicy {
    return this.config.retention ?? DEFAULT_RETENTION;
  }

  get maxAttempts(): number {
    return maxAttempts(this.config.retry);
  }

  private topology() {
    return topology(this.config.retry, this.namespace, this.types, this.config.deliveryLimit ?? DELIVERY_LIMIT_BACKSTOP);
  }

  /** Declares every queue of the namespace and starts the outbox relay. */
  async start(): Promise<void> {
    for (const spec of this.topology()) {
      try {
        await this.broker.queueDeclare({ queue: spec.queue, durable: true, arguments: spec.arguments });
      } catch (err) {
        throw new Error(`declaring queue ${spec.queue} failed (an existing queue with other arguments must be deleted first): ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    this.outbox.start();
    const interval = this.config.outboxIntervalMs ?? 1000;
    this.relayTimer = setInterval(() => void this.relayOutbox(), interval);
    this.relayTimer.unref();
  }

  register<P>(type: JobType, handler: JobHandler<P>, opts: RegisterOptions = {}): void {
    if (this.registrations.has(type)) throw new Error(`a handler for ${type} is already registered`);
    this.registrations.set(type, {
      handler: handler as JobHandler<never>,
      concurrency: opts.concurrency ?? this.config.concurrency,
      timeoutMs: opts.timeoutMs ?? this.config.timeouts?.[type] ?? this.config.timeoutMs,
    });
  }

  /** Starts consuming the work queue (and draining the broker's dead letters) of each type. */
  startWorkers(types: readonly JobType[] = [...this.registrations.keys()]): void {
    if (this.stopping) throw new Error("the engine is stopping");
    for (const type of types) {
      const reg = this.registrations.get(type);
      if (!reg) throw new Error(`no handler registered for job type ${type}`);
      if (this.workers.some((w) => w.type === type)) continue;
      const specs = queuesFor(type, this.config.retry, this.namespace, this.config.deliveryLimit ?? DELIVERY_LIMIT_BACKSTOP);
      const work = specs.find((q) => q.role === "work")!;
      const dead = specs.find((q) => q.role === "dead")!;
      const prefetch = this.config.prefetch ?? reg.concurrency * 2;
      this.workers.push(new JobWorker(type, reg, this.workerContext, work, prefetch));
      const deadLetters = this.broker.createConsumer(
        {
          queue: dead.queue,
          queueOptions: { queue: dead.queue, durable: true, arguments: dead.arguments },
          qos: { prefetchCount: 10 },
          concurrency: 1,
          requeue: false,
        },
        (msg) => this.onBrokerDeadLetter(type, msg),
      );
      deadLetters.on("error", (err: unknown) => this.logger.warn({ err, type }, "dead-letter consumer error"));
      this.deadLetterConsumers.push(deadLetters);
      this.metrics.concurrency.set({ type }, reg.concurrency);
    }
  }

  /**
   * Enqueues one job; concurrent calls are written with one INSERT. Resolves once the row is
   * committed; the publish follows at once (the relay covers a failed one).
   */
  async enqueue(type: JobType, payload: unknown, opts: EnqueueOptions = {}): Promise<{ jobId: string }> {
    this.assertOpen(type);
    return { jobId: await this.outbox.enqueues.add({ type, payload, requestId: opts.requestId, jobId: opts.jobId }) };
  }

  /** Enqueues a batch with one multi-row INSERT, then pipelined publishes; resolves once they are confirmed (or failed: the relay covers those). */
  async enqueueMany(items: readonly EnqueueItem[]): Promise<{ jobIds: string[] }> {
    for (const i of items) this.assertOpen(i.type);
    return { jobIds: await this.outbox.enqueueNow([...items]) };
  }

  /**
   * Writes jobs inside the caller's transaction (`sql` runs in it, e.g. prismaExecutor(tx)), so
   * they commit or roll back with the caller's own rows: no row of the caller without its jobs.
   * Call `publish` after the commit. If the process dies first, the rows wait in the outbox
   * (pending, unpublished) and the relay publishes them once they are older than the grace.
   */
  async enqueueInTransaction(sql: SqlExecutor, items: readonly EnqueueItem[]): Promise<{ jobIds: string[]; publish(): Promise<number> }> {
    for (const i of items) this.assertOpen(i.type);
    return this.outbox.enqueueIn(sql, items);
  }

  /** Waits until every queued state write (claims, outcomes, publish confirmations) is committed. */
  async flushWrites(): Promise<void> {
    await this.outbox.enqueues.flushNow();
    await this.outbox.drained(); // publishes still waiting for the broker's confirmation
    await Promise.all([this.outbox.enqueues.flushNow(), this.claims.flushNow(), this.finishes.flushNow(), this.releases.flushNow(), this.outbox.marks.flushNow(), this.outbox.intents.flushNow()]);
  }

  /** Publishes jobs an operator set back to pending (dead-job retry); the relay covers failures. */
  publishPending(ids: string[]): Promise<number> {
    return this.outbox.publishPending(ids);
  }

  /** One pass of the outbox relay: publishes unpublished rows older than the grace period. */
  relayOutbox(graceMs = this.config.outboxGraceMs ?? 5000): Promise<number> {
    return this.outbox.relay(graceMs, this.broker.ready);
  }

  /**
   * Finds jobs processing longer than their type's timeout plus the grace: requeues them
   * through the outbox, or marks them dead when they are out of attempts.
   */
  async recoverStuckJobs(): Promise<{ requeued: number; dead: number }> {
    let requeued = 0;
    let dead = 0;
    const now = this.clock();
    for (const type of this.types) {
      const timeout = this.registrations.get(type)?.timeoutMs ?? this.config.timeouts?.[type] ?? this.config.timeoutMs;
      const rows = await this.store.recoverStuck(type, timeout + (this.config.stuckGraceMs ?? 60_000), now);
      for (const row of rows) {
        if (row.status === "dead") {
          dead++;
          this.metrics.stuck.inc({ type, action: "failed" });
          this.metrics.deadLettered.inc({ type });
          this.logger.error({ jobId: row.id, type, attempts: row.attempts }, "stuck job is out of attempts; dead-lettered");
        } else {
          requeued++;
          this.metrics.stuck.inc({ type, action: "requeued" });
          this.logger.warn({ jobId: row.id, type, attempts: row.attempts }, "stuck job requeued");
        }
      }
      const pending = rows.filter((r) => r.status === "pending").map((r) => r.id);
      if (pending.length > 0 && this.broker.ready) await this.publishPending(pending).catch(() => 0);
    }
    return { requeued, dead };
  }

  /**
   * Stops consuming; running handlers get until the deadline to finish, then are aborted and
   * released (state back to pending, message requeued). Flushes state writes and publishes.
   * Does not close the database or the broker connection: their owner does.
   */
  stop(deadlineMs = this.config.shutdownDeadlineMs): Promise<void> {
    this.stopPromise ??= this.doStop(deadlineMs);
    return this.stopPromise;
  }

  /** Deletes every queue of this engine's namespace (tests and benchmarks). */
  async deleteTopology(): Promise<void> {
    for (const spec of this.topology()) {
      await this.broker.queueDelete({ queue: spec.queue }).catch(() => undefined);
    }
  }

  // ------------------------------------------------------------------------------ internals

  private assertOpen(type: JobType): void {
    if (this.stopping) throw new Error("the engine is stopping");
    if (!this.types.includes(type)) throw new Error(`job type ${type} is not part of this engine's topology`);
  }

  private async doStop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.relayTimer);
    for (const w of this.workers) w.slots.close();
    const deadline = setTimeout(() => {
      this.deadline.abort();
      for (const r of [...this.running]) r.stop();
      for (const b of [this.claims, this.finishes, this.releases, this.outbox.enqueues, this.outbox.marks, this.outbox.intents]) b.abandon();
    }, deadlineMs);
    try {
      const closing = Promise.all([...this.workers.map((w) => w.consumer.close()), ...this.deadLetterConsumers.map((c) => c.close())]);
      await raceTimeout(closing, deadlineMs + 5000);
      await Promise.allSettled([this.claims.close(), this.finishes.close(), this.releases.close()]);
      await this.outbox.close(deadlineMs);
    } finally {
      clearTimeout(deadline);
      clearInterval(this.timeoutTimer);
    }
    this.logger.info("job engine stopped");
  }

  /** `log` is the job's logger (jobLogger): its bindings name the job, the line does not repeat them. */
  private deadLettered(type: JobType, attempt: number, error: string, log: Logger, permanent = false): void {
    this.metrics.deadLettered.inc({ type });
    log.error({ attempts: attempt, error, permanent }, "job dead-lettered");
  }

  private runHandler(reg: Registration, payload: unknown, job: Attempt): Promise<Outcome> {
    const running = new RunningHandler(job, reg.timeoutMs, this.onHandlerSettled);
    if (this.deadline.signal.aborted) {
      running.stop();
      return running.result;
    }
    this.running.add(running);
    this.watchTimeouts(reg.timeoutMs);
    running.run(reg.handler as JobHandler<unknown>, payload);
    return running.result;
  }

  private readonly onHandlerSettled = (r: RunningHandler): void => {
    this.running.delete(r);
  };

  /**
   * One timer per engine checks running handlers against their timeouts (a timer per job
   * costs more than a short job). It ticks at a tenth of the shortest timeout seen, between
   * 10 ms and 1 s, so a timeout fires at most that late.
   */
  private watchTimeouts(timeoutMs: number): void {
    const tick = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
    if (this.timeoutTimer && this.timeoutTick <= tick) return;
    clearInterval(this.timeoutTimer);
    this.timeoutTick = tick;
    this.timeoutTimer = setInterval(() => {
      const now = performance.now();
      for (const r of this.running) if (r.deadline <= now) r.timeout();
    }, tick);
    this.timeoutTimer.unref();
  }

  /** Messages the broker dead-lettered (delivery-limit backstop): record them as dead. */
  private async onBrokerDeadLetter(type: JobType, msg: AsyncMessage): Promise<ConsumerStatus> {
    const jobId = messageJobId(msg);
    if (!isJobId(jobId)) {
      this.logger.error({ type, messageId: msg.messageId }, "dead letter without a job id discarded");
      return ConsumerStatus.ACK;
    }
    try {
      const reason = `delivery limit exceeded: the broker dead-lettered the message (${stringHeader(msg.headers?.["x-first-death-reason"]) ?? "unknown reason"})`;
      if (await this.store.markDead(jobId, reason, this.clock())) {
        this.deadLettered(type, 0, reason, jobLogger(this.logger, { jobId, type, requestId: stringHeader(msg.headers?.[HEADERS.requestId]) }));
      }
      return ConsumerStatus.ACK;
    } catch (err) {
      this.logger.warn({ err, jobId }, "could not record a broker dead letter; retrying");
      await new Promise((r) => setTimeout(r, 1000));
      return ConsumerStatus.REQUEUE;
    }
  }
}
