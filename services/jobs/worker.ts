/**
 * The way through: one job type's consumer, and the life of each delivery in three steps.
 *
 *   claim   A fresh delivery (first time the broker hands this message out) runs at once with
 *           the attempt number from its x-attempt header; its claim (`processing`,
 *           attempts + 1) waits in the group-commit batch, so a handler that finishes within
 *           that window takes its claim back and its outcome write starts and ends the attempt
 *           in one statement. A redelivery (a worker or channel died with the message) is
 *           claimed before it runs, so the attempt that died is counted and a job out of
 *           attempts is recorded `dead` without running again. A copy of a message this
 *           worker is already handling waits for that run and is then claimed before it runs.
 *           A claim succeeds only for the message the row waits for (CLAIM_GUARD in
 *           job-store.ts): a duplicate never starts an attempt of its own.
 *   run     The handler gets a slot (per-type concurrency), a context, and a timeout; at the
 *           shutdown deadline it is aborted and the attempt is released.
 *   record  The outcome is written (group-committed with its neighbours): `completed`,
 *           `failed` with its retry published to the delay queue of its backoff level, or
 *           `dead`. Only then is the delivery settled; acks of one commit leave together
 *           (see consumer.ts).
 */
import { performance } from "node:perf_hooks";
import { ConsumerStatus, type AsyncMessage, type Connection } from "rabbitmq-client";
import { jobLogger, type Logger } from "../logger.js";
import { Attempt, type Outcome, type PendingClaim } from "./attempt.js";
import type { Batcher } from "./batcher.js";
import { JobConsumer, type Delivery } from "./consumer.js";
import type { EngineMetrics } from "./engine-metrics.js";
import type { Claim, ClaimRequest, Finish } from "./job-store.js";
import { isJobId, type Outbox } from "./outbox.js";
import { retryDelayMs, type RetryPolicy } from "./retry-policy.js";
import { Slots } from "./slots.js";
import { HEADERS, type QueueSpec } from "./topology.js";
import { PermanentJobError, type JobHandler, type JobType } from "./types.js";

export interface Registration {
  handler: JobHandler<never>;
  concurrency: number;
  timeoutMs: number;
}

/** What every worker shares with the engine: the state writes, the outbox and the clock. */
export interface WorkerContext {
  readonly broker: Connection;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly clock: () => Date;
  readonly retry: RetryPolicy;
  readonly maxAttempts: number;
  readonly claims: Batcher<ClaimRequest, Claim | undefined>;
  readonly finishes: Batcher<Finish, boolean>;
  readonly releases: Batcher<{ id: string; attempt: number }, undefined>;
  readonly outbox: Outbox;
  isStopping(): boolean;
  /** Runs a handler under the engine's timeout watch and shutdown deadline. */
  /** Runs the handler as `job` (its context's jobId, type, attempt and requestId are the attempt's). */
  runHandler(reg: Registration, payload: unknown, job: Attempt): Promise<Outcome>;
  /** A job recorded dead: counted and logged. */
  /** `log` is the job's logger (jobLogger): its bindings name the job, the line does not repeat them. */
  deadLettered(type: JobType, attempt: number, error: string, log: Logger, permanent?: boolean): void;
  /** Every recorded outcome (tests and benchmarks observe completion through this). */
  onRecorded?: (jobId: string, status: Finish["status"]) => void;
}

export class JobWorker {
  readonly slots: Slots;
  readonly consumer: JobConsumer;
  private readonly m: ReturnType<typeof workerMetrics>;

  constructor(
    readonly type: JobType,
    readonly reg: Registration,
    private readonly c: WorkerContext,
    work: QueueSpec,
    prefetch: number,
  ) {
    this.slots = new Slots(reg.concurrency);
    this.m = workerMetrics(c.metrics, type);
    this.consumer = new JobConsumer(c.broker, { queue: work.queue, arguments: work.arguments, prefetch }, this.deliver);
    this.consumer.on("error", (err: unknown) => c.logger.warn({ err, type }, "job consumer error"));
  }

  /**
   * The delivery of each job id this worker holds now. A second copy of a job's message (the
   * broker redelivered it after a lost channel while its first run goes on, or a publish was
   * repeated) waits for that run to be recorded, then claims before it runs: it never runs
   * beside its twin, and it finds the job done or its attempt recorded, so it is acknowledged.
   */
  private readonly inHand = new Map<string, Promise<ConsumerStatus>>();

  private readonly deliver = (msg: AsyncMessage, delivery: Delivery): void => {
    const jobId = messageJobId(msg);
    const twin = jobId === undefined ? undefined : this.inHand.get(jobId);
    const handled = twin ? twin.then(() => this.handle(msg, jobId, true), () => this.handle(msg, jobId, true)) : this.handle(msg, jobId, false);
    if (jobId !== undefined) this.inHand.set(jobId, handled);
    // One reaction per delivery: forget it here (unless a twin took its place), then settle.
    handled.then(
      (status) => {
        this.forget(jobId, handled);
        delivery.settle(status);
      },
      async (err: unknown) => {
        this.forget(jobId, handled);
        // Never requeue at once (a hot loop): log, then requeue after a pause.
        this.c.logger.error({ err, type: this.type }, "unexpected error handling a job message; requeueing");
        await new Promise((r) => setTimeout(r, 1000));
        delivery.settle(ConsumerStatus.REQUEUE);
      },
    );
  };

  /** Forgets a handled delivery, unless a twin of it has taken its place since. */
  private forget(jobId: string | undefined, handled: Promise<ConsumerStatus>): void {
    if (jobId !== undefined && this.inHand.get(jobId) === handled) this.inHand.delete(jobId);
  }

  private async handle(msg: AsyncMessage, jobId: string | undefined, afterTwin: boolean): Promise<ConsumerStatus> {
    const claimed = this.claim(msg, jobId, afterTwin);
    // A fresh delivery's attempt is known at once (its claim waits in the batch): no await.
    const job = claimed instanceof Promise ? await claimed : claimed;
    if (typeof job === "number") return job;
    const outcome = await this.run(job, msg);
    return this.record(job, outcome, msg);
  }

  // ---------------------------------------------------------------------------------- claim

  /**
   * The attempt this delivery runs as, or how to settle it without running. `afterTwin`: a copy
   * of the same job's message was just handled here, so this one claims before it runs.
   */
  private claim(msg: AsyncMessage, jobId: string | undefined, afterTwin: boolean): Attempt | ConsumerStatus | Promise<Attempt | ConsumerStatus> {
    const type = this.type;
    if (!isJobId(jobId)) {
      this.c.logger.error({ messageId: msg.messageId, type }, "message without a job id; sent to the dead-letter queue");
      return ConsumerStatus.DROP;
    }
    if (this.c.isStopping()) return ConsumerStatus.REQUEUE;
    const requestId = stringHeader(msg.headers?.[HEADERS.requestId]);
    const headerAttempt = Number(msg.headers?.[HEADERS.attempt] ?? 0) + 1;
    const attempt = Number.isInteger(headerAttempt) && headerAttempt >= 1 ? headerAttempt : null;
    const redelivered = msg.redelivered === true;
    if (!redelivered && !afterTwin && attempt !== null) {
      return new Attempt(jobId, type, attempt, this.c.maxAttempts, this.c.logger, this.c.claims.ticket({ id: jobId, attempt, redelivered }) as PendingClaim, requestId);
    }
    return this.claimFirst(jobId, attempt, redelivered, requestId);
  }

  /** A redelivery, or a copy after its twin: the claim is written before the handler runs. */
  private async claimFirst(jobId: string, attempt: number | null, redelivered: boolean, requestId: string | undefined): Promise<Attempt | ConsumerStatus> {
    const type = this.type;
    let claim: Claim | undefined;
    try {
      claim = await this.c.claims.add({ id: jobId, attempt, redelivered });
    } catch {
      return ConsumerStatus.REQUEUE;
    }
    if (!claim) {
      if (this.c.logger.isLevelEnabled("debug")) jobLogger(this.c.logger, { jobId, type, requestId }).debug("duplicate or unknown job message acknowledged");
      return ConsumerStatus.ACK;
    }
    if (claim.attempts > claim.maxAttempts) {
      // Attempts were started but never finished (the worker died mid-job each time).
      const attempt = claim.attempts;
      const now = this.c.clock();
      const error = `out of attempts: ${attempt - 1} attempts started and none finished (worker lost mid-job)`;
      const written = await this.c.finishes.add({
        id: jobId, attempt, status: "dead", finishedAt: now, durationMs: 0, error,
        entry: { attempt, outcome: "dead", at: now.toISOString(), error },
      });
      if (written) {
        this.c.deadLettered(type, attempt, error, jobLogger(this.c.logger, { jobId, type, attempt, requestId }));
        this.c.onRecorded?.(jobId, "dead");
      }
      return ConsumerStatus.ACK;
    }
    return new Attempt(jobId, type, claim.attempts, claim.maxAttempts, this.c.logger, undefined, requestId);
  }

  // ------------------------------------------------------------------------------------ run

  private async run(job: Attempt, msg: AsyncMessage): Promise<Outcome> {
    if (!this.slots.tryAcquire() && !(await this.slots.acquire())) return RELEASED;
    job.startedAt = this.c.clock();
    const t0 = performance.now();
    this.m.started.inc();
    try {
      return await this.c.runHandler(this.reg, msg.body, job);
    } finally {
      this.slots.release();
      job.seconds = (performance.now() - t0) / 1000;
      this.m.busySeconds.inc(job.seconds);
    }
  }

  // --------------------------------------------------------------------------------- record

  private async record(job: Attempt, outcome: Outcome, msg: AsyncMessage): Promise<ConsumerStatus> {
    if (outcome.kind === "released") return this.giveBack(job, outcome !== RELEASED);
    const owning = job.ownership();
    const own = owning instanceof Promise ? await owning : owning;
    if (!own) {
      // The claim found the job completed or dead: this was a duplicate delivery.
      if (this.c.logger.isLevelEnabled("debug")) job.logger().debug("duplicate job message acknowledged");
      return ConsumerStatus.ACK;
    }
    const finishedAt = this.c.clock();
    const startedAt = job.startedAt!;
    const seconds = job.seconds;
    const durationMs = Math.round(seconds * 1000);
    if (outcome.kind === "completed") {
      // The history entry of a completed attempt is built in SQL from these columns.
      const written = await this.c.finishes.add({ id: job.jobId, attempt: own.attempt, direct: own.direct, startedAt, status: "completed", finishedAt, durationMs });
      if (written) {
        this.m.completed.inc();
        this.m.success.observe(seconds);
        this.c.onRecorded?.(job.jobId, "completed");
      }
      return ConsumerStatus.ACK;
    }
    const error = outcome.error;
    const permanent = error instanceof PermanentJobError || error.name === "PermanentJobError";
    const dead = permanent || own.attempt >= job.maxAttempts;
    const delayMs = dead ? 0 : retryDelayMs(this.c.retry, own.attempt);
    const runAt = dead ? undefined : new Date(finishedAt.getTime() + delayMs);
    const status = dead ? "dead" : "failed";
    const timing = { attempt: own.attempt, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), durationMs };
    const written = await this.c.finishes.add({
      id: job.jobId, attempt: own.attempt, direct: own.direct, startedAt, status, finishedAt, durationMs, error: error.message, stack: error.stack, runAt,
      entry: { ...timing, outcome: status, error: error.message, stack: error.stack, ...(permanent ? { permanent: true } : {}), ...(runAt ? { retryAt: runAt.toISOString() } : {}) },
    });
    if (!written) return ConsumerStatus.ACK;
    this.m.failed.inc();
    this.m.failure.observe(seconds);
    this.c.onRecorded?.(job.jobId, status);
    if (dead) {
      this.c.deadLettered(this.type, own.attempt, error.message, job.logger(), permanent);
    } else {
      this.c.metrics.retries.inc({ type: this.type, attempt: String(own.attempt + 1) });
      job.logger().warn({ err: error, delayMs }, "job attempt failed; retry scheduled");
      this.c.outbox.publishRetry(this.type, job.jobId, own.attempt, delayMs, msg.body, job.requestId ?? null, job.logger(), finishedAt);
    }
    return ConsumerStatus.ACK;
  }

  /** Gives the attempt back: released in the table if it was claimed; the message is requeued. */
  private async giveBack(job: Attempt, ran: boolean): Promise<ConsumerStatus> {
    if (ran) job.logger().warn("job released at shutdown; it will run again");
    const own = await job.ownership();
    if (own && !own.direct) await this.c.releases.add({ id: job.jobId, attempt: own.attempt }).catch(() => undefined);
    return ConsumerStatus.REQUEUE;
  }
}

/** The outcome of a delivery that never got a handler slot (the engine is stopping). */
const RELEASED: Outcome = { kind: "released" };

/**
 * The job id a message carries (its message id, else the x-job-id header), in the canonical
 * form every id has here: lowercase, as Postgres prints a uuid. The store's answers (claims,
 * written outcomes, new rows) are keyed by the ids Postgres returns, so an id taken in another
 * case would never match its own row's answer. Undefined when the message carries none.
 */
export function messageJobId(msg: AsyncMessage): string | undefined {
  return (msg.messageId ?? stringHeader(msg.headers?.[HEADERS.jobId]))?.toLowerCase();
}

export function stringHeader(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return undefined;
}

function workerMetrics(m: EngineMetrics, type: JobType) {
  return {
    started: m.started.labels({ type }),
    completed: m.completed.labels({ type }),
    failed: m.failed.labels({ type }),
    busySeconds: m.busySeconds.labels({ type }),
    success: m.duration.labels({ type, outcome: "success" }),
    failure: m.duration.labels({ type, outcome: "failure" }),
  };
}
