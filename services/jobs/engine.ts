/**
 * The job engine: durable, at-least-once jobs on RabbitMQ quorum queues with their state in
 * Postgres.
 *
 * Life of a job: enqueue writes the row (`pending`, unpublished: the outbox) and publishes
 * with confirms; a worker claims it (`processing`, attempts + 1), runs the handler, records
 * the outcome (`completed`, `failed` with the retry due time, or `dead`) and only then acks.
 * A failed attempt is published to the delay queue of its backoff level, which dead-letters
 * it back into the work queue when the delay has passed. State writes are group-committed:
 * claims and outcomes that arrive within a few milliseconds share one statement, and a
 * handler that finishes inside that window takes its claim back, so a short job costs one
 * row write after its insert. Attempts are counted in the x-attempt header and in the table;
 * a redelivery (worker or channel died) is claimed before it runs, so a crash loop ends in
 * `dead` after the configured attempts; the queue's x-delivery-limit is only a backstop.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer, type Publisher } from "rabbitmq-client";
import type { Config } from "../config.js";
import type { Database } from "../db/client.js";
import type { SqlExecutor } from "../db/migrations.js";
import { jobLogger, type Logger } from "../logger.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { Attempt, RunningHandler, type Outcome, type PendingClaim } from "./attempt.js";
import { Batcher } from "./batcher.js";
import { JobTimeoutError } from "./errors.js";
import { engineMetrics, type EngineMetrics } from "./engine-metrics.js";
import { JobStore, type Claim, type Finish, type OutboxRow, type PublishedMark } from "./job-store.js";
import { maxAttempts, retryDelayMs, type RetryPolicy } from "./retry-policy.js";
import { Slots } from "./slots.js";
import { HEADERS, queuesFor, retryQueue, topology, workQueue } from "./topology.js";
import { JOB_TYPES, PermanentJobError, type JobContext, type JobHandler, type JobType } from "./types.js";

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

export interface EnqueueOptions {
  requestId?: string;
  /** Caller-chosen id (a UUID) makes enqueue idempotent: an existing job is left alone. */
  jobId?: string;
}

export interface EnqueueItem extends EnqueueOptions {
  type: JobType;
  payload: unknown;
}

export interface RegisterOptions {
  concurrency?: number;
  timeoutMs?: number;
}

interface Registration {
  handler: JobHandler<never>;
  concurrency: number;
  timeoutMs: number;
}

interface Worker {
  type: JobType;
  /** Metric children with this type's labels bound (no label hashing per job). */
  m: ReturnType<typeof workerMetrics>;
  reg: Registration;
  slots: Slots;
  consumer: Consumer;
  deadLetters: Consumer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  private readonly workers: Worker[] = [];
  private publisher: Publisher | undefined;
  private relayTimer: NodeJS.Timeout | undefined;
  private relayRunning = false;
  private readonly pendingPublishes = new Set<Promise<unknown>>();
  private readonly deadline = new AbortController();
  /** Handlers running now; at the shutdown deadline each is aborted and released. */
  private readonly running = new Set<RunningHandler>();
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutTick = Infinity;
  private stopping = false;
  private stopPromise: Promise<void> | undefined;

  /** Group-commit statistics per batcher (flushes, items, time). */
  get batchStats() {
    return { claims: this.claims.stats, finishes: this.finishes.stats, marks: this.marks.stats, enqueues: this.enqueuer.stats };
  }

  private readonly enqueuer: Batcher<EnqueueItem, string>;
  private readonly claims: Batcher<string, Claim | undefined>;
  private readonly finishes: Batcher<Finish, boolean>;
  private readonly releases: Batcher<{ id: string; attempt: number }, undefined>;
  private readonly marks: Batcher<PublishedMark, undefined>;

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
      queues: () => topology(this.config.retry, this.namespace, this.types).map((q) => q.queue),
    });
    const linger = deps.config.commitLingerMs ?? 2;
    const maxSize = deps.config.commitMaxBatch ?? 500;
    const onError = (what: string) => (err: unknown, attempt: number) =>
      this.logger.warn({ err, attempt }, `${what} failed; retrying (is the database down?)`);
    // Enqueue fails fast when the database is down: the caller (an API request) reports it.
    this.enqueuer = new Batcher({ lingerMs: linger, maxSize, retry: false, flush: (items) => this.enqueueNow(items) });
    this.claims = new Batcher({
      lingerMs: linger,
      maxSize,
      onError: onError("claiming jobs"),
      flush: async (ids) => {
        const claimed = await this.store.claim(ids, this.clock());
        return ids.map((id) => claimed.get(id));
      },
    });
    this.finishes = new Batcher({
      lingerMs: linger,
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
    // Publish confirmations are bookkeeping for the outbox (a claim marks the job published
    // too), so they wait longer and share bigger statements.
    this.marks = new Batcher({
      lingerMs: Math.max(linger, 20),
      maxSize: 2000,
      onError: onError("marking jobs published"),
      flush: async (rows) => {
        await this.store.markPublished(rows);
        return rows.map(() => undefined);
      },
    });
  }

  get maxAttempts(): number {
    return maxAttempts(this.config.retry);
  }

  /** Declares every queue of the namespace and starts the outbox relay. */
  async start(): Promise<void> {
    for (const spec of topology(this.config.retry, this.namespace, this.types)) {
      try {
        await this.broker.queueDeclare({ queue: spec.queue, durable: true, arguments: spec.arguments });
      } catch (err) {
        throw new Error(`declaring queue ${spec.queue} failed (an existing queue with other arguments must be deleted first): ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    this.publisher = this.broker.createPublisher({ confirm: true, maxAttempts: 2 });
    this.publisher.on("retry", (err: unknown) => this.logger.warn({ err }, "publish failed once; retrying"));
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
      const specs = queuesFor(type, this.config.retry, this.namespace);
      const work = specs.find((q) => q.role === "work")!;
      const dead = specs.find((q) => q.role === "dead")!;
      const prefetch = this.config.prefetch ?? reg.concurrency * 2;
      const slots = new Slots(reg.concurrency);
      const worker: Worker = { type, reg, slots, m: workerMetrics(this.metrics, type) } as Worker;
      worker.consumer = this.broker.createConsumer(
        {
          queue: work.queue,
          queueOptions: { queue: work.queue, durable: true, arguments: work.arguments },
          qos: { prefetchCount: prefetch },
          // Every prefetched message enters onMessage (claims are batched there); handler
          // slots, not the consumer, bound how many handlers run at once.
          concurrency: prefetch,
          requeue: false,
        },
        (msg) => this.onMessage(worker, msg),
      );
      worker.consumer.on("error", (err: unknown) => this.logger.warn({ err, type }, "job consumer error"));
      worker.deadLetters = this.broker.createConsumer(
        {
          queue: dead.queue,
          queueOptions: { queue: dead.queue, durable: true, arguments: dead.arguments },
          qos: { prefetchCount: 10 },
          concurrency: 1,
          requeue: false,
        },
        (msg) => this.onBrokerDeadLetter(type, msg),
      );
      worker.deadLetters.on("error", (err: unknown) => this.logger.warn({ err, type }, "dead-letter consumer error"));
      this.metrics.concurrency.set({ type }, reg.concurrency);
      this.workers.push(worker);
    }
  }

  /** Enqueues one job; concurrent calls are written with one INSERT. */
  async enqueue(type: JobType, payload: unknown, opts: EnqueueOptions = {}): Promise<{ jobId: string }> {
    this.assertOpen(type);
    return { jobId: await this.enqueuer.add({ type, payload, ...opts }) };
  }

  /** Enqueues a batch with one multi-row INSERT and pipelined, confirmed publishes. */
  async enqueueMany(items: readonly EnqueueItem[]): Promise<{ jobIds: string[] }> {
    for (const i of items) this.assertOpen(i.type);
    return { jobIds: await this.enqueueNow([...items]) };
  }

  /**
   * Writes jobs inside the caller's transaction (`sql` runs in it, e.g. prismaExecutor(tx)), so
   * they commit or roll back with the caller's own rows: no row of the caller without its jobs.
   * Call `publish` after the commit. If the process dies first, the rows wait in the outbox
   * (pending, unpublished) and the relay publishes them once they are older than the grace.
   */
  async enqueueInTransaction(sql: SqlExecutor, items: readonly EnqueueItem[]): Promise<{ jobIds: string[]; publish(): Promise<number> }> {
    for (const i of items) this.assertOpen(i.type);
    const max = this.maxAttempts;
    const jobs = items.map((i) => ({ id: i.jobId ?? randomUUID(), type: i.type, payload: i.payload, maxAttempts: max, requestId: i.requestId }));
    for (const j of jobs) if (!UUID.test(j.id)) throw new Error(`jobId must be a UUID, got ${j.id}`);
    const inserted = await new JobStore(sql).insert(jobs, this.clock());
    const fresh: OutboxRow[] = jobs
      .filter((j) => inserted.has(j.id))
      .map((j) => ({ id: j.id, type: j.type, payload: j.payload, attempts: 0, requestId: j.requestId ?? null, status: "pending" }));
    return {
      jobIds: jobs.map((j) => j.id),
      publish: async () => (this.publisher && !this.stopping ? (await this.publishRows(fresh)).length : 0),
    };
  }

  /** Waits until every queued state write (claims, outcomes, publish confirmations) is committed. */
  async flushWrites(): Promise<void> {
    await Promise.all([this.enqueuer.flushNow(), this.claims.flushNow(), this.finishes.flushNow(), this.releases.flushNow(), this.marks.flushNow()]);
  }

  /** Publishes jobs an operator set back to pending (dead-job retry); the relay covers failures. */
  async publishPending(ids: string[]): Promise<number> {
    const rows = await this.store.loadForPublish(ids);
    return (await this.publishRows(rows)).length;
  }

  /** One pass of the outbox relay: publishes unpublished rows older than the grace period. */
  async relayOutbox(graceMs = this.config.outboxGraceMs ?? 5000): Promise<number> {
    if (this.relayRunning || this.stopping || !this.broker.ready || !this.publisher) return 0;
    this.relayRunning = true;
    let total = 0;
    try {
      for (;;) {
        const rows = await this.store.outbox(this.clock(), graceMs, 500);
        if (rows.length === 0) break;
        const ok = await this.publishRows(rows);
        await this.marks.flushNow(); // the next page must not return these rows again
        total += ok.length;
        if (ok.length < rows.length || rows.length < 500) break;
      }
      if (total > 0) this.logger.info({ published: total }, "outbox relay published jobs");
    } catch (err) {
      this.logger.warn({ err }, "outbox relay pass failed");
    } finally {
      this.relayRunning = false;
    }
    return total;
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
    for (const spec of topology(this.config.retry, this.namespace, this.types)) {
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
      for (const b of [this.claims, this.finishes, this.releases, this.enqueuer, this.marks]) b.abandon();
    }, deadlineMs);
    try {
      const closing = Promise.all(this.workers.flatMap((w) => [w.consumer.close(), w.deadLetters.close()]));
      await raceTimeout(closing, deadlineMs + 5000);
      await Promise.allSettled([this.claims.close(), this.finishes.close(), this.releases.close(), this.enqueuer.close()]);
      await raceTimeout(Promise.allSettled([...this.pendingPublishes]), Math.max(1000, deadlineMs));
      await this.marks.close();
      await this.publisher?.close();
    } finally {
      clearTimeout(deadline);
      clearInterval(this.timeoutTimer);
    }
    this.logger.info("job engine stopped");
  }

  private async enqueueNow(items: EnqueueItem[]): Promise<string[]> {
    const max = this.maxAttempts;
    const jobs = items.map((i) => ({ id: i.jobId ?? randomUUID(), type: i.type, payload: i.payload, maxAttempts: max, requestId: i.requestId }));
    for (const j of jobs) if (!UUID.test(j.id)) throw new Error(`jobId must be a UUID, got ${j.id}`);
    const inserted = await this.store.insert(jobs, this.clock());
    const fresh = jobs.filter((j) => inserted.has(j.id));
    if (this.publisher && !this.stopping) {
      await this.publishRows(fresh.map((j) => ({ id: j.id, type: j.type, payload: j.payload, attempts: 0, requestId: j.requestId ?? null, status: "pending" })));
    }
    return jobs.map((j) => j.id);
  }

  /** Publishes rows to their work queue with confirms; marks the confirmed ones (batched). */
  private async publishRows(rows: OutboxRow[]): Promise<OutboxRow[]> {
    const results = await Promise.all(
      rows.map(async (row) => {
        try {
          await this.publish(workQueue(row.type, this.namespace), row);
          this.markPublished({ id: row.id, status: row.status, attempts: row.attempts });
          return row;
        } catch (err) {
          jobLogger(this.logger, { jobId: row.id, type: row.type, requestId: row.requestId ?? undefined }).warn({ err }, "publish failed; the job stays in the outbox");
          return undefined;
        }
      }),
    );
    return results.filter((r): r is OutboxRow => r !== undefined);
  }

  private markPublished(mark: PublishedMark): void {
    this.marks.add(mark).catch((err: unknown) => this.logger.warn({ err, jobId: mark.id }, "could not mark a job published; the relay may publish it again"));
  }

  private async publish(queue: string, row: { id: string; type: JobType; payload: unknown; attempts: number; requestId: string | null }): Promise<void> {
    if (!this.publisher) throw new Error("the engine is not started");
    // The job id travels as the AMQP message-id and the type is the queue; the only header
    // every message needs is the attempt count.
    const headers: Record<string, unknown> = { [HEADERS.attempt]: row.attempts };
    if (row.requestId) headers[HEADERS.requestId] = row.requestId;
    const send = this.publisher.send(
      { routingKey: queue, durable: true, messageId: row.id, contentType: "application/json", headers },
      row.payload ?? null,
    );
    const tracked = send.catch(() => undefined);
    this.pendingPublishes.add(tracked);
    void tracked.finally(() => this.pendingPublishes.delete(tracked));
    await raceTimeout(send, this.config.publishTimeoutMs ?? 5000);
  }

  private async onMessage(worker: Worker, msg: AsyncMessage): Promise<ConsumerStatus> {
    try {
      return await this.process(worker, msg);
    } catch (err) {
      // Never let the client decide (it would requeue at once): log, then requeue after a pause.
      this.logger.error({ err, type: worker.type }, "unexpected error handling a job message; requeueing");
      await new Promise((r) => setTimeout(r, 1000));
      return ConsumerStatus.REQUEUE;
    }
  }

  /**
   * One delivery. A fresh delivery runs at once with the attempt number from its header, while
   * its claim (`processing`, attempts + 1) waits in the group-commit batch: a handler that
   * finishes within that window takes its claim back and records claim and outcome in one
   * write; a longer one is visible as `processing` while it runs. A redelivery (the broker saw
   * a worker or channel die) is claimed before it runs, so the attempt that died is counted
   * and a job out of attempts is not run again.
   */
  private async process(worker: Worker, msg: AsyncMessage): Promise<ConsumerStatus> {
    const type = worker.type;
    const jobId = msg.messageId ?? stringHeader(msg.headers?.[HEADERS.jobId]);
    if (!jobId || !UUID.test(jobId)) {
      this.logger.error({ messageId: msg.messageId, type }, "message without a job id; sent to the dead-letter queue");
      return ConsumerStatus.DROP;
    }
    if (this.stopping) return ConsumerStatus.REQUEUE;
    const requestId = stringHeader(msg.headers?.[HEADERS.requestId]);
    const headerAttempt = Number(msg.headers?.[HEADERS.attempt] ?? 0) + 1;
    let attempt: number;
    let maxAttempts = this.maxAttempts;
    let pendingClaim: PendingClaim | undefined;
    if (msg.redelivered || !Number.isInteger(headerAttempt) || headerAttempt < 1) {
      let claim: Claim | undefined;
      try {
        claim = await this.claims.add(jobId);
      } catch {
        return ConsumerStatus.REQUEUE;
      }
      if (!claim) {
        if (this.logger.isLevelEnabled("debug")) jobLogger(this.logger, { jobId, type, requestId }).debug("duplicate or unknown job message acknowledged");
        return ConsumerStatus.ACK;
      }
      attempt = claim.attempts;
      maxAttempts = claim.maxAttempts;
      if (attempt > maxAttempts) {
        // Attempts were started but never finished (the worker died mid-job each time).
        const now = this.clock();
        const error = `out of attempts: ${attempt - 1} attempts started and none finished (worker lost mid-job)`;
        const written = await this.finishes.add({
          id: jobId, attempt, status: "dead", finishedAt: now, durationMs: 0, error,
          entry: { attempt, outcome: "dead", at: now.toISOString(), error },
        });
        if (written) this.deadLettered(type, attempt, error, jobLogger(this.logger, { jobId, type, attempt, requestId }));
        return ConsumerStatus.ACK;
      }
    } else {
      attempt = headerAttempt;
      pendingClaim = this.claims.ticket(jobId);
    }
    const job = new Attempt(jobId, type, attempt, this.logger, pendingClaim, requestId);

    if (!worker.slots.tryAcquire() && !(await worker.slots.acquire())) return this.giveBack(job);
    const startedAt = this.clock();
    const t0 = performance.now();
    worker.m.started.inc();
    worker.m.inFlight.inc();
    let outcome: Outcome;
    try {
      outcome = await this.runHandler(worker.reg, msg.body, { jobId, type, attempt, requestId }, job);
    } finally {
      worker.slots.release();
      worker.m.inFlight.dec();
    }
    const seconds = (performance.now() - t0) / 1000;
    worker.m.busySeconds.inc(seconds);
    if (outcome.kind === "released") {
      job.logger().warn("job released at shutdown; it will run again");
      return this.giveBack(job);
    }
    const owning = job.ownership();
    const own = owning instanceof Promise ? await owning : owning;
    if (!own) {
      // The claim found the job completed or dead: this was a duplicate delivery.
      if (this.logger.isLevelEnabled("debug")) job.logger().debug("duplicate job message acknowledged");
      return ConsumerStatus.ACK;
    }
    const owned = { id: jobId, attempt: own.attempt, direct: own.direct, startedAt };
    const finishedAt = this.clock();
    const durationMs = Math.round(seconds * 1000);
    if (outcome.kind === "completed") {
      // The history entry of a completed attempt is built in SQL from these columns.
      const written = await this.finishes.add({ ...owned, status: "completed", finishedAt, durationMs });
      if (written) {
        worker.m.completed.inc();
        worker.m.success.observe(seconds);
      }
      return ConsumerStatus.ACK;
    }
    const timing = { attempt: own.attempt, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), durationMs };
    const error = outcome.error;
    const permanent = error instanceof PermanentJobError || error.name === "PermanentJobError";
    const dead = permanent || own.attempt >= maxAttempts;
    const delayMs = dead ? 0 : retryDelayMs(this.config.retry, own.attempt);
    const runAt = dead ? undefined : new Date(finishedAt.getTime() + delayMs);
    const status = dead ? "dead" : "failed";
    const written = await this.finishes.add({
      ...owned, status, finishedAt, durationMs, error: error.message, stack: error.stack, runAt,
      entry: { ...timing, outcome: status, error: error.message, stack: error.stack, ...(permanent ? { permanent: true } : {}), ...(runAt ? { retryAt: runAt.toISOString() } : {}) },
    });
    if (!written) return ConsumerStatus.ACK;
    worker.m.failed.inc();
    worker.m.failure.observe(seconds);
    if (dead) {
      this.deadLettered(type, own.attempt, error.message, job.logger(), permanent);
    } else {
      this.metrics.retries.inc({ type, attempt: String(own.attempt + 1) });
      job.logger().warn({ err: error, delayMs }, "job attempt failed; retry scheduled");
      this.scheduleRetry(type, jobId, own.attempt, delayMs, msg, job.logger());
    }
    return ConsumerStatus.ACK;
  }

  /** `log` is the job's logger (jobLogger): its bindings name the job, the line does not repeat them. */
  private deadLettered(type: JobType, attempt: number, error: string, log: Logger, permanent = false): void {
    this.metrics.deadLettered.inc({ type });
    log.error({ attempts: attempt, error, permanent }, "job dead-lettered");
  }

  /** Publishes the retry to its backoff level's delay queue; the outbox covers a failed publish. */
  private scheduleRetry(type: JobType, jobId: string, attempt: number, delayMs: number, msg: AsyncMessage, log: Logger): void {
    const row = { id: jobId, type, payload: msg.body, attempts: attempt, requestId: stringHeader(msg.headers?.[HEADERS.requestId]) ?? null };
    this.publish(retryQueue(type, delayMs, this.namespace), row).then(
      () => this.markPublished({ id: jobId, status: "failed", attempts: attempt }),
      (err: unknown) => log.warn({ err }, "retry publish failed; the outbox relay will publish it when due"),
    );
  }

  private runHandler(reg: Registration, payload: unknown, fields: Omit<JobContext, "signal" | "logger">, job: Attempt): Promise<Outcome> {
    const running = new RunningHandler(fields, job, reg.timeoutMs, this.onHandlerSettled);
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

  /** Gives the attempt back: released in the table if it was claimed; the message is requeued. */
  private async giveBack(job: Attempt): Promise<ConsumerStatus> {
    const own = await job.ownership();
    if (own && !own.direct) await this.releases.add({ id: job.jobId, attempt: own.attempt }).catch(() => undefined);
    return ConsumerStatus.REQUEUE;
  }

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
    const jobId = msg.messageId ?? stringHeader(msg.headers?.[HEADERS.jobId]);
    if (!jobId || !UUID.test(jobId)) {
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

function stringHeader(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return undefined;
}


async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}


function workerMetrics(m: EngineMetrics, type: JobType) {
  return {
    started: m.started.labels({ type }),
    completed: m.completed.labels({ type }),
    failed: m.failed.labels({ type }),
    inFlight: m.inFlight.labels({ type }),
    busySeconds: m.busySeconds.labels({ type }),
    success: m.duration.labels({ type, outcome: "success" }),
    failure: m.duration.labels({ type, outcome: "failure" }),
  };
}
