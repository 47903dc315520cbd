/**
 * The contract job handlers code against. The engine (engine.ts) runs handlers; workers
 * (services/workers) implement them. Job types mirror the Prisma enum JobType.
 */
import type { Logger } from "../logger.js";
import type { JobType as PrismaJobType } from "../db/generated/enums.js";

export const JOB_TYPES = ["import", "translation", "image", "source_check", "push"] as const;

export type JobType = (typeof JOB_TYPES)[number];

/** Compile-time check: JOB_TYPES and the Prisma enum JobType list the same names. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameAsPrisma: Same<JobType, PrismaJobType> = true;
void sameAsPrisma;

export const JOB_STATUSES = ["pending", "processing", "completed", "failed", "dead"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export function isJobType(value: string): value is JobType {
  return (JOB_TYPES as readonly string[]).includes(value);
}

export interface JobContext {
  /** Stable across attempts and redeliveries: key idempotent side effects by it. */
  jobId: string;
  type: JobType;
  /** 1-based: the first run is attempt 1. */
  attempt: number;
  requestId?: string;
  logger: Logger;
  /** Aborted when the attempt times out or the process shuts down past its deadline. */
  signal: AbortSignal;
}

export type JobHandler<P = unknown> = (payload: P, ctx: JobContext) => Promise<void>;

/**
 * Thrown by a handler for a failure that retrying cannot fix (a corrupt image, a payload that
 * fails validation). The job goes straight to `dead` with this reason.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}
