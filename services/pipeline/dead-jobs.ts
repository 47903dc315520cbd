/**
 * What retrying or discarding a dead pipeline job means for its product. The engine resets the
 * job; this policy runs in the same transaction (services/jobs/job-queries.ts), on the locked
 * product row, and either prepares the product for the job or says why the job is skipped.
 *
 * Retry, per job type:
 *   translation, image, push: a product marked `failed` by exactly this job (failedJobId) goes
 *     back into the stage the job works on (RESUME_STATUS: translating, processing_images,
 *     approved); the worker then does the work and the product moves on (processing_images,
 *     in_review, pushed). A product still in that stage since before the job died (its failure
 *     could not be recorded, or a re-push of a pushed product died) keeps its status and the job
 *     runs again. Anything else is skipped: the product failed in another job, or it moved on
 *     since the job died (re-imported, reviewed, gone).
 *   import: never fails a product; the job runs again and imports the source, unless its import
 *     item is gone or already linked, or a later import of the same source URL completed.
 *   source_check: never fails a product; the check runs again, unless the product no longer
 *     exists or was checked after the job died.
 * Each retry writes a history entry naming the actor on the product (the transition back into
 * the stage, or an entry that keeps the status). Jobs whose payload names no product or import
 * item are plain retries.
 *
 * Discard: the product keeps its status (a failed product stays failed) and its history records
 * which dead job was discarded, and by whom.
 */
import { z } from "zod";
import type { Product } from "../db/generated/client.js";
import type { DeadJob, DeadJobPolicy, OperatorAction, RetryDecision } from "../jobs/job-queries.js";
import type { Tx } from "./products.js";
import { applyTransition, lockProduct, recordProductEvent } from "./products.js";
import { RESUME_STATUS, type ProductStatus } from "./status.js";

const productPayload = z.object({ productId: z.uuid() });
const importPayload = z.object({ importId: z.uuid(), sourceUrl: z.string() });

/** The statuses each stage's worker acts on: a product in one of them still needs the job. */
const WORKS_ON: Readonly<Record<"translation" | "image" | "push", readonly ProductStatus[]>> = {
  translation: ["translating"],
  image: ["processing_images"],
  push: ["approved", "pushed"],
};

const RETRY: RetryDecision = { retry: true };
const skip = (reason: string): RetryDecision => ({ retry: false, reason });

/** The product history's actor for an operator: `admin`, or `admin:<name>` when the request named one. */
export function adminActor(actor: string): string {
  return actor === "admin" ? "admin" : `admin:${actor}`;
}

export const pipelineDeadJobPolicy: DeadJobPolicy = {
  async beforeRetry(tx, job, op) {
    if (job.type === "import") return retryImport(tx, job, op);
    const parsed = productPayload.safeParse(job.payload);
    if (!parsed.success) return RETRY; // names no product: the plain retry
    const product = await lockProduct(tx, parsed.data.productId);
    if (!product) return skip(`product ${parsed.data.productId} no longer exists`);
    if (job.type === "source_check") return retrySourceCheck(tx, job, op, product);
    return retryStage(tx, job, op, product, job.type);
  },

  async beforeDiscard(tx, job, op) {
    const product = await productOf(tx, job);
    if (!product) return;
    await recordProductEvent(tx, product, adminActor(op.actor), { action: "dead-job-discarded", jobId: job.id, jobType: job.type, by: op.actor, lastError: job.lastError });
  },
};

async function retryStage(tx: Tx, job: DeadJob, op: OperatorAction, product: Product, stage: "translation" | "image" | "push"): Promise<RetryDecision> {
  const details = { action: "dead-job-retried", jobId: job.id, jobType: job.type, by: op.actor };
  if (product.status === "failed") {
    if (product.failedJobId !== job.id) {
      return skip(
        product.failedJobId
          ? `product failed in its ${product.failedStage} stage through job ${product.failedJobId}, not this job; retry that one`
          : `product failed without a recorded stage (${product.failureReason ?? "no reason"}); re-import it`,
      );
    }
    await applyTransition(tx, product, RESUME_STATUS[stage]!, {
      actor: adminActor(op.actor),
      details: { ...details, previousFailure: product.failureReason },
      data: { failureReason: null, failedStage: null, failedJobId: null },
    });
    return RETRY;
  }
  if (WORKS_ON[stage].includes(product.status) && (!job.deadAt || product.statusChangedAt <= job.deadAt)) {
    await recordProductEvent(tx, product, adminActor(op.actor), details);
    return RETRY;
  }
  return skip(`product is ${product.status} since ${product.statusChangedAt.toISOString()}: it moved on after the job died`);
}

async function retrySourceCheck(tx: Tx, job: DeadJob, op: OperatorAction, product: Product): Promise<RetryDecision> {
  if (product.lastCheckedAt && job.deadAt && product.lastCheckedAt > job.deadAt) {
    return skip(`product was checked again at ${product.lastCheckedAt.toISOString()}, after the job died`);
  }
  await recordProductEvent(tx, product, adminActor(op.actor), { action: "dead-job-retried", jobId: job.id, jobType: job.type, by: op.actor });
  return RETRY;
}

async function retryImport(tx: Tx, job: DeadJob, op: OperatorAction): Promise<RetryDecision> {
  const parsed = importPayload.safeParse(job.payload);
  if (!parsed.success) return RETRY;
  const { importId, sourceUrl } = parsed.data;
  const item = await tx.importItem.findUnique({ where: { importId_sourceUrl: { importId, sourceUrl } }, include: { import: { select: { createdAt: true } } } });
  if (!item) return skip(`import item ${importId} / ${sourceUrl} no longer exists`);
  if (item.productId) return skip(`the import item is already imported (product ${item.productId})`);
  const later = await tx.importItem.findFirst({
    where: { sourceUrl, productId: { not: null }, import: { createdAt: { gt: item.import.createdAt } } },
    select: { importId: true },
  });
  if (later) return skip(`${sourceUrl} was imported again since, by import ${later.importId}`);
  const product = await tx.product.findUnique({ where: { sourceUrl } });
  if (product) await recordProductEvent(tx, product, adminActor(op.actor), { action: "dead-job-retried", jobId: job.id, jobType: job.type, by: op.actor, importId });
  return RETRY;
}

/** The product a dead job stands for, if it (still) exists. */
async function productOf(tx: Tx, job: DeadJob): Promise<Product | null> {
  if (job.type === "import") {
    const p = importPayload.safeParse(job.payload);
    return p.success ? tx.product.findUnique({ where: { sourceUrl: p.data.sourceUrl } }) : null;
  }
  const p = productPayload.safeParse(job.payload);
  return p.success ? lockProduct(tx, p.data.productId) : null;
}
