/**
 * Product persistence: the one place a product's status changes. A transition is a
 * compare-and-set on (id, version), bumps the version and writes a ProductEvent in the same
 * transaction, so a concurrent change is a version conflict, never a silent overwrite.
 */
import type { Prisma, PrismaClient } from "../db/client.js";
import type { Product } from "../db/generated/client.js";
import { DomainError, productNotFound } from "./errors.js";
import { assertTransition, type ProductStatus } from "./status.js";

export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient | Tx;

export interface TransitionOptions {
  readonly actor: string;
  readonly details?: Record<string, unknown>;
  /** Optimistic concurrency from the caller (API `version`); a mismatch is a conflict. */
  readonly expectedVersion?: number;
  /** Other columns to set in the same write. */
  readonly data?: Prisma.ProductUpdateManyMutationInput;
}

/** Moves `current` (a snapshot read in the same transaction) to `to`. */
export async function applyTransition(tx: Tx, current: Product, to: ProductStatus, opts: TransitionOptions): Promise<Product> {
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== current.version) {
    throw versionConflict(current.id, opts.expectedVersion, current.version);
  }
  assertTransition(current.status, to);
  const now = new Date();
  const { count } = await tx.product.updateMany({
    where: { id: current.id, version: current.version, status: current.status },
    data: { ...opts.data, status: to, version: { increment: 1 }, statusChangedAt: now },
  });
  if (count !== 1) {
    const fresh = await tx.product.findUnique({ where: { id: current.id }, select: { version: true } });
    throw versionConflict(current.id, current.version, fresh?.version ?? -1);
  }
  await tx.productEvent.create({
    data: { productId: current.id, fromStatus: current.status, toStatus: to, actor: opts.actor, details: (opts.details ?? {}) as Prisma.InputJsonValue, at: now },
  });
  return tx.product.findUniqueOrThrow({ where: { id: current.id } });
}

/** Reads the product with a row lock (FOR UPDATE) held until `tx` ends; null when it does not exist. */
export async function lockProduct(tx: Tx, productId: string): Promise<Product | null> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM products WHERE id = ${productId}::uuid FOR UPDATE`;
  if (locked.length === 0) return null;
  return tx.product.findUnique({ where: { id: productId } });
}

/** A history entry that changes no status (an operator action on the product's jobs). */
export async function recordProductEvent(tx: Tx, current: Product, actor: string, details: Record<string, unknown>): Promise<void> {
  await tx.productEvent.create({
    data: { productId: current.id, fromStatus: current.status, toStatus: current.status, actor, details: details as Prisma.InputJsonValue },
  });
}

/** Reads the product and transitions it in one transaction. */
export async function transitionProduct(prisma: PrismaClient, productId: string, to: ProductStatus, opts: TransitionOptions): Promise<Product> {
  return prisma.$transaction(async (tx) => {
    const current = await tx.product.findUnique({ where: { id: productId } });
    if (!current) throw productNotFound(productId);
    return applyTransition(tx, current, to, opts);
  });
}

export function versionConflict(id: string, expected: number, actual: number): DomainError {
  return new DomainError("version_conflict", `product ${id} was changed concurrently (expected version ${expected}, found ${actual}); reload and retry`, {
    productId: id,
    expectedVersion: expected,
    currentVersion: actual,
  });
}

/** A JSON-safe view of a product (Decimal -> string, BigInt -> string). */
export function productView(p: Product) {
  return {
    id: p.id,
    sourceUrl: p.sourceUrl,
    status: p.status,
    version: p.version,
    title: p.title,
    description: p.description,
    price: p.price === null ? null : p.price.toFixed(2),
    currency: p.currency,
    sourceLanguage: p.sourceLanguage,
    reviewer: p.reviewer,
    reviewNotes: p.reviewNotes,
    reviewStartedAt: p.reviewStartedAt,
    reviewedAt: p.reviewedAt,
    storeProductId: p.storeProductId,
    pushedAt: p.pushedAt,
    lastCheckedAt: p.lastCheckedAt,
    lastCheckOutcome: p.lastCheckOutcome,
    failureReason: p.failureReason,
    failedStage: p.failedStage,
    failedJobId: p.failedJobId,
    statusChangedAt: p.statusChangedAt,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
