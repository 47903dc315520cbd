/**
 * The product state machine. Every status change goes through `assertTransition`; anything not
 * listed here is illegal (the API answers 409, a worker skips or fails the job).
 *
 *   imported -> translating -> processing_images -> in_review -> approved -> pushed
 *                                                          \-> rejected
 *   any active status -> failed | source_gone;  failed/rejected/source_gone/in_review -> translating (re-import)
 */
import type { ProductStatus } from "../db/generated/enums.js";
import { DomainError } from "./errors.js";

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
  failed: ["translating", "source_gone"],
  source_gone: ["translating"],
};

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
