/**
 * The run step's state (see worker.ts for the life of a delivery), as classes rather than
 * closures: a no-op job must cost little more than its broker round trip.
 */
import { jobLogger, type Logger } from "../logger.js";
import { JobTimeoutError } from "./errors.js";
import type { Claim } from "./job-store.js";
import type { JobContext, JobType } from "./types.js";

export interface Ownership {
  /** Never claimed: the outcome write also starts the attempt. */
  direct: boolean;
  attempt: number;
}

/** A claim queued for the next group commit: it can still be taken back. */
export interface PendingClaim {
  cancel(): boolean;
  wait(): Promise<Claim | undefined>;
}

/** One attempt of one job, from delivery to outcome. */
export class Attempt {
  private child: Logger | undefined;
  /** Set when the handler starts (the engine's clock) and how long it ran. */
  startedAt: Date | undefined;
  seconds = 0;

  constructor(
    readonly jobId: string,
    readonly type: JobType,
    readonly attempt: number,
    readonly maxAttempts: number,
    private readonly baseLogger: Logger,
    /** The claim still waiting in its group-commit batch (fresh deliveries only). */
    private readonly pendingClaim?: PendingClaim,
    readonly requestId?: string,
  ) {}

  /** A child logger with the job's bindings (jobId, type, attempt, requestId), built on first use. */
  logger(): Logger {
    return (this.child ??= jobLogger(this.baseLogger, { jobId: this.jobId, type: this.type, attempt: this.attempt, requestId: this.requestId }));
  }

  /**
   * How this attempt stands in the table: direct (its claim taken back before it was written),
   * claimed (with the attempt number the table gave it), or undefined when the claim found the
   * job completed or dead (a duplicate delivery).
   */
  ownership(): Ownership | Promise<Ownership | undefined> {
    if (!this.pendingClaim) return { direct: false, attempt: this.attempt };
    if (this.pendingClaim.cancel()) return { direct: true, attempt: this.attempt };
    return this.pendingClaim.wait().then(
      (claim) => (claim ? { direct: false, attempt: claim.attempts } : undefined),
      () => undefined,
    );
  }
}

export type Outcome = { readonly kind: "completed" } | { readonly kind: "failed"; readonly error: Error } | { readonly kind: "released" };

/** Every completed attempt's outcome (it carries nothing of its own). */
const COMPLETED: Outcome = { kind: "completed" };

/** A running handler: settles once, on completion, failure, timeout or shutdown. */
export class RunningHandler {
  /** performance.now() after which the attempt times out. */
  readonly deadline: number;
  private abort: AbortController | undefined;
  private reason: Error | undefined;
  private done = false;
  readonly ctx: JobContext;
  readonly result: Promise<Outcome>;
  private resolve!: (o: Outcome) => void;

  constructor(
    attempt: Attempt,
    private readonly timeoutMs: number,
    private readonly onSettled: (r: RunningHandler) => void,
  ) {
    this.deadline = performance.now() + timeoutMs;
    this.result = new Promise<Outcome>((resolve) => (this.resolve = resolve));
    this.ctx = new LazyContext(this, attempt);
  }

  run(handler: (payload: unknown, ctx: JobContext) => Promise<void>, payload: unknown): void {
    let p: Promise<void>;
    try {
      p = handler(payload, this.ctx);
    } catch (err) {
      this.settle({ kind: "failed", error: toError(err) });
      return;
    }
    Promise.resolve(p).then(
      () => this.settle(COMPLETED),
      (err: unknown) => this.settle({ kind: "failed", error: toError(err) }),
    );
  }

  timeout(): void {
    this.reason = new JobTimeoutError(this.timeoutMs);
    this.abort?.abort(this.reason);
    this.settle({ kind: "failed", error: this.reason });
  }

  stop(): void {
    this.reason = new Error("shutting down");
    this.abort?.abort(this.reason);
    this.settle({ kind: "released" });
  }

  /** The attempt's abort signal, created on first use (already aborted if it is too late). */
  signal(): AbortSignal {
    this.abort ??= new AbortController();
    if (this.reason && !this.abort.signal.aborted) this.abort.abort(this.reason);
    return this.abort.signal;
  }

  private settle(o: Outcome): void {
    if (this.done) return;
    this.done = true;
    this.onSettled(this);
    this.resolve(o);
  }
}

/** The handler's context; the abort signal and the logger are built only if it asks for them. */
class LazyContext implements JobContext {
  readonly jobId: string;
  readonly type: JobType;
  readonly attempt: number;
  readonly requestId?: string;

  constructor(
    private readonly running: RunningHandler,
    private readonly job: Attempt,
  ) {
    this.jobId = job.jobId;
    this.type = job.type;
    this.attempt = job.attempt;
    if (job.requestId !== undefined) this.requestId = job.requestId;
  }

  get signal(): AbortSignal {
    return this.running.signal();
  }

  get logger(): Logger {
    return this.job.logger();
  }
}

export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === "string" ? err : JSON.stringify(err));
}
