/**
 * source_check: a conditional GET of the product's source (If-None-Match / If-Modified-Since).
 * Records available (200 same price, or 304), price_changed, gone (404/410: the product moves
 * to source_gone) or error, with the request latency. One row per job id: a redelivered job
 * records nothing twice.
 */
import { z } from "zod";
import { PermanentJobError, type JobHandler } from "../jobs/types.js";
import { sourceCheckDuration, sourceChecksTotal } from "../metrics.js";
import type { Prisma } from "../db/client.js";
import { safeFetch } from "../pipeline/http.js";
import type { ProductPayload } from "../pipeline/jobs.js";
import { applyTransition } from "../pipeline/products.js";
import { parseSource } from "../pipeline/source.js";
import { canTransition } from "../pipeline/status.js";
import type { WorkerDeps } from "./common.js";

const payloadSchema = z.object({ productId: z.string().uuid() });
type Outcome = "available" | "gone" | "price_changed" | "error";

export function sourceCheckHandler(deps: WorkerDeps): JobHandler<ProductPayload> {
  const prisma = deps.db.prisma;
  const total = deps.metrics.counter(sourceChecksTotal);
  const duration = deps.metrics.histogram(sourceCheckDuration);
  return async (raw, ctx) => {
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentJobError(`invalid source_check payload: ${parsed.error.message}`);
    const { productId } = parsed.data;
    if (await prisma.sourceCheck.findUnique({ where: { jobId: ctx.jobId }, select: { id: true } })) return;
    const product = await prisma.product.findUnique({ where: { id: productId } });
    if (!product) throw new PermanentJobError(`product ${productId} does not exist`);

    const headers: Record<string, string> = { accept: "application/json, text/html;q=0.9", "user-agent": "product-platform-checker/1" };
    if (product.sourceEtag) headers["if-none-match"] = product.sourceEtag;
    if (product.sourceLastModified) headers["if-modified-since"] = product.sourceLastModified;
    const started = performance.now();
    let outcome: Outcome = "error";
    let httpStatus: number | null = null;
    let error: string | null = null;
    let newPrice: string | null = null;
    const update: Prisma.ProductUpdateInput = {};
    try {
      const res = await safeFetch(product.sourceUrl, deps.fetchLimits, { headers, signal: ctx.signal });
      httpStatus = res.status;
      if (res.status === 304) outcome = "available";
      else if (res.status === 404 || res.status === 410) outcome = "gone";
      else if (res.status === 200) {
        const doc = parseSource(res.text(), res.headers.get("content-type") ?? "", res.url);
        newPrice = doc.price;
        const oldPrice = product.price?.toFixed(2) ?? null;
        outcome = doc.price !== null && doc.price !== oldPrice ? "price_changed" : "available";
        update.sourceEtag = res.headers.get("etag");
        update.sourceLastModified = res.headers.get("last-modified");
        if (outcome === "price_changed") {
          update.price = doc.price;
          if (doc.currency) update.currency = doc.currency;
          update.version = { increment: 1 }; // a content change: stale reviews conflict, the next push carries it
        }
      } else error = `source answered HTTP ${res.status}`;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      error = (err as Error).message;
    }
    const latencyMs = Math.round(performance.now() - started);
    // The check row (keyed by job id), the product's new price and status commit together: a
    // redelivery after a crash finds the row and stops, so it must never find the row alone.
    try {
      await prisma.$transaction(async (tx) => {
        await tx.sourceCheck.create({
          data: { productId, outcome, httpStatus, latencyMs, oldPrice: product.price, newPrice: outcome === "price_changed" ? newPrice : null, error, jobId: ctx.jobId },
        });
        const updated = await tx.product.update({ where: { id: productId }, data: { ...update, lastCheckedAt: new Date(), lastCheckOutcome: outcome } });
        if (outcome === "gone" && canTransition(updated.status, "source_gone")) {
          await applyTransition(tx, updated, "source_gone", { actor: "worker:source_check", details: { jobId: ctx.jobId, httpStatus } });
        }
      });
    } catch (err) {
      if ((err as { code?: string }).code === "P2002") return; // a concurrent duplicate delivery recorded it
      throw err;
    }
    total.inc({ outcome });
    duration.observe({ outcome }, latencyMs / 1000);
    ctx.logger.info({ productId, outcome, httpStatus, latencyMs }, "source checked");
  };
}
