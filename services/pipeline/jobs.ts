/**
 * What the pipeline needs from the job engine: enqueue a job of a type with a payload. The
 * engine (services/jobs/engine.ts) satisfies this structurally; keeping the pipeline on this
 * narrow interface lets the domain run without a broker in unit tests.
 */
export type PipelineJobType = "import" | "translation" | "image" | "source_check" | "push";

export interface EnqueueOptions {
  readonly requestId?: string;
  /** A stable id makes the enqueue idempotent: a redelivered job re-enqueues the same follow-up. */
  readonly jobId?: string;
}

export interface JobQueue {
  enqueue(type: PipelineJobType, payload: Record<string, unknown>, opts?: EnqueueOptions): Promise<unknown>;
}

export interface ImportPayload {
  readonly importId: string;
  readonly sourceUrl: string;
}
export interface ProductPayload {
  readonly productId: string;
}
