/**
 * The product state machine. Every status change goes through `assertTransition`; anything not
 * listed here is illegal (the API answers 409, a worker skips or fails the job).
 *
 *   imported -> translating -> processing_images -> in_review -> approved -> pushed
 *                                                          \-> rejected
 *   any active status -> failed | source_gone;  failed/rejected/source_gone/in_review -> translating (re-import)
 *   failed -> translating | processing_images | approved: an operator retried the dead job of
 *   that stage (RESUME_STATUS; services/pipeline/dead-jobs.ts). Reviewers decide only on
 *   in_review products (REVIEWABLE), so failed -> approved is the push retry's edge alone.
 */
import type { ProductStatus } from "../db/generated/enums.js";
import { DomainError } from "./errors.js";
import type { PipelineJobType } from "./jobs.js";

export type { ProductStatus };

export const PRODUCT_STATUSES = [
  "imported",
  "translating",
  "processing_images",
  "in_review",
  "approved",
  "rejected",
  "pushed",
  "failed",
  "source_gone",
] as const satisfies readonly ProductStatus[];

export const TRANSITIONS: Readonly<Record<ProductStatus, readonly ProductStatus[]>> = {
  imported: ["translating", "failed", "source_gone"],
  translating: ["processing_images", "failed", "source_gone"],
  processing_images: ["in_review", "failed", "source_gone"],
  in_review: ["approved", "rejected", "translating", "failed", "source_gone"],
  approved: ["pushed", "failed", "source_gone"],
  rejected: ["translating", "source_gone"],
  pushed: ["source_gone"],
  failed: ["translating", "processing_images", "approved", "source_gone"],
  source_gone: ["translating"],
};

/**
 * The status a failed product goes back to when the dead job of its failed stage is retried:
 * the status that stage's worker works on. Import and source-check jobs never fail a product.
 */
export const RESUME_STATUS: Readonly<Partial<Record<PipelineJobType, ProductStatus>>> = {
  translation: "translating",
  image: "processing_images",
  push: "approved",
};

/** The one status a reviewer may approve or reject. */
export const REVIEWABLE: ProductStatus = "in_review";

/** Statuses from which a new import restarts the pipeline (content is re-translated and re-reviewed). */
export const REIMPORTABLE: readonly ProductStatus[] = ["imported", "in_review", "rejected", "failed", "source_gone"];

export function canTransition(from: ProductStatus, to: ProductStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: ProductStatus, to: ProductStatus): void {
  if (!canTransition(from, to)) {
    throw new DomainError("illegal_transition", `a product in status ${from} cannot move to ${to}`, {
      from,
      to,
      allowed: TRANSITIONS[from],
    });
  }
}
