/**
 * What the pipeline needs from the job engine: enqueue a job of a type with a payload. The
 * engine (services/jobs/engine.ts) satisfies this structurally; keeping the pipeline on this
 * narrow interface lets the domain run without a broker in unit tests.
 */
import type { SqlExecutor } from "../db/migrations.js";

export type PipelineJobType = "import" | "translation" | "image" | "source_check" | "push";

export interface EnqueueOptions {
  readonly requestId?: string;
  /** A stable id makes the enqueue idempotent: a redelivered job re-enqueues the same follow-up. */
  readonly jobId?: string;
}

export interface JobQueue {
  enqueue(type: PipelineJobType, payload: Record<string, unknown>, opts?: EnqueueOptions): Promise<unknown>;
}

/**
 * A queue that can also write jobs inside the caller's database transaction (the engine's
 * outbox): the jobs commit with the caller's rows; `publish` after the commit, and the outbox
 * relay covers a process that dies before it.
 */
export interface TransactionalJobQueue extends JobQueue {
  enqueueInTransaction(
    sql: SqlExecutor,
    items: readonly ({ type: PipelineJobType; payload: Record<string, unknown> } & EnqueueOptions)[],
  ): Promise<{ publish(): Promise<unknown> }>;
}

export interface ImportPayload {
  readonly importId: string;
  readonly sourceUrl: string;
}
export interface ProductPayload {
  readonly productId: string;
}
