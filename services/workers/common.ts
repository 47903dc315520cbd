/**
 * What every worker needs, and the shared rules for turning failures into job outcomes:
 * transient failures are rethrown (the engine retries with backoff); permanent ones mark the
 * product failed with its reason and throw PermanentJobError (straight to the dead letters).
 * A transient failure on the last attempt also marks the product failed, so no product is
 * left waiting in a working status for a job that is dead.
 */
import type { Config } from "../config.js";
import type { Database } from "../db/client.js";
import { PermanentJobError, type JobContext } from "../jobs/types.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { canTransition } from "../pipeline/status.js";
import type { FetchLimits } from "../pipeline/http.js";
import type { JobQueue } from "../pipeline/jobs.js";
import { applyTransition, lockProduct } from "../pipeline/products.js";
import type { ObjectStorage } from "../pipeline/storage.js";
import type { StoreClient } from "../pipeline/store.js";
import type { TranslationProvider } from "../pipeline/translation.js";

export interface WorkerDeps {
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly metrics: MetricsRegistry;
  readonly config: Pick<Config, "TARGET_LANGUAGES" | "JOB_MAX_RETRIES">;
  readonly fetchLimits: FetchLimits;
  readonly translator: TranslationProvider;
  readonly storage: ObjectStorage;
  readonly store: StoreClient;
}

export function isLastAttempt(deps: WorkerDeps, ctx: JobContext): boolean {
  return ctx.attempt >= deps.config.JOB_MAX_RETRIES + 1;
}

/**
 * Moves the product to failed with a reason and the failed stage (this job's type and id), if
 * its status allows it; never throws. Check and write happen in one transaction on the locked
 * row, so the failure and the stage it names are one state change.
 */
export async function failProduct(deps: WorkerDeps, productId: string, reason: string, ctx: JobContext): Promise<void> {
  try {
    await deps.db.prisma.$transaction(async (tx) => {
      const current = await lockProduct(tx, productId);
      if (!current || !canTransition(current.status, "failed")) return;
      await applyTransition(tx, current, "failed", {
        actor: `worker:${ctx.type}`,
        details: { reason, jobId: ctx.jobId, attempt: ctx.attempt, stage: ctx.type },
        data: { failureReason: reason.slice(0, 1000), failedStage: ctx.type, failedJobId: ctx.jobId },
      });
    });
  } catch (err) {
    ctx.logger.warn({ err, productId }, "could not mark the product failed");
  }
}

/** Permanent: mark failed and dead-letter. Transient: retry (marking failed on the last attempt). */
export async function fail(deps: WorkerDeps, ctx: JobContext, productId: string, reason: string, transient: boolean, cause?: unknown): Promise<never> {
  if (!transient) {
    await failProduct(deps, productId, reason, ctx);
    throw new PermanentJobError(reason, { cause });
  }
  if (isLastAttempt(deps, ctx)) await failProduct(deps, productId, `${reason} (gave up after ${ctx.attempt} attempts)`, ctx);
  throw new Error(reason, { cause });
}
