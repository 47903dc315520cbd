/**
 * import: fetch the source URL (safe fetch: timeout, size cap, redirect limit), parse the
 * product document, create or update the product keyed by its source URL, then queue its
 * translation. Idempotent: a redelivered job finds its import item already linked and only
 * re-queues the (same-id) translation job.
 */
import { z } from "zod";
import { PermanentJobError, type JobContext, type JobHandler } from "../jobs/types.js";
import { productsImportedTotal } from "../metrics.js";
import { uuidv7, nameUuid } from "../pipeline/ids.js";
import { FetchError, isTransientStatus, safeFetch } from "../pipeline/http.js";
import type { ImportPayload } from "../pipeline/jobs.js";
import { applyTransition } from "../pipeline/products.js";
import { parseSource, SourceParseError, type SourceProduct } from "../pipeline/source.js";
import { REIMPORTABLE } from "../pipeline/status.js";
import type { Prisma } from "../db/client.js";
import type { WorkerDeps } from "./common.js";

const payloadSchema = z.object({ importId: z.string().uuid(), sourceUrl: z.string().url() });

export function importHandler(deps: WorkerDeps): JobHandler<ImportPayload> {
  const prisma = deps.db.prisma;
  const imported = deps.metrics.counter(productsImportedTotal);

  const itemError = async (p: ImportPayload, error: string) => {
    await prisma.importItem.updateMany({ where: { importId: p.importId, sourceUrl: p.sourceUrl }, data: { error: error.slice(0, 1000) } });
  };
  const permanent = async (p: ImportPayload, reason: string, cause?: unknown): Promise<never> => {
    await itemError(p, reason);
    throw new PermanentJobError(reason, { cause });
  };
  const enqueueTranslation = (productId: string, ctx: JobContext) =>
    deps.jobs.enqueue("translation", { productId }, { requestId: ctx.requestId, jobId: nameUuid(`translation:${ctx.jobId}`) });

  return async (raw, ctx) => {
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentJobError(`invalid import payload: ${parsed.error.message}`);
    const payload = parsed.data;
    const item = await prisma.importItem.findUnique({ where: { importId_sourceUrl: { importId: payload.importId, sourceUrl: payload.sourceUrl } } });
    if (!item) throw new PermanentJobError(`import item ${payload.importId} / ${payload.sourceUrl} does not exist`);
    if (item.productId) {
      // An earlier delivery of this job got as far as linking the product.
      const p = await prisma.product.findUnique({ where: { id: item.productId }, select: { status: true } });
      if (p?.status === "translating") await enqueueTranslation(item.productId, ctx);
      return;
    }

    let res;
    try {
      res = await safeFetch(payload.sourceUrl, deps.fetchLimits, {
        headers: { accept: "application/json, application/ld+json;q=0.9, text/html;q=0.8", "user-agent": "product-platform-importer/1" },
        signal: ctx.signal,
      });
    } catch (err) {
      if (err instanceof FetchError && !err.transient) return permanent(payload, `source fetch failed: ${err.message}`, err);
      if (err instanceof FetchError) await itemError(payload, `source fetch failed (will retry): ${err.message}`);
      throw err;
    }
    if (res.status !== 200) {
      const reason = `source answered HTTP ${res.status}`;
      if (isTransientStatus(res.status)) {
        await itemError(payload, `${reason} (will retry)`);
        throw new Error(reason);
      }
      return permanent(payload, reason);
    }
    let doc: SourceProduct;
    try {
      doc = parseSource(res.text(), res.headers.get("content-type") ?? "", res.url);
    } catch (err) {
      if (err instanceof SourceParseError) return permanent(payload, `source is not a product document: ${err.message}`, err);
      throw err;
    }

    const fields = {
      title: doc.title.slice(0, 1000),
      description: doc.description.slice(0, 20_000),
      price: doc.price,
      currency: doc.currency,
      sourceLanguage: doc.language,
      sourceEtag: res.headers.get("etag"),
      sourceLastModified: res.headers.get("last-modified"),
      sourceData: { format: doc.format, images: doc.images, finalUrl: res.url } as Prisma.InputJsonValue,
      failureReason: null,
      failedStage: null,
      failedJobId: null,
    };
    const actor = "worker:import";
    const details = { importId: payload.importId, jobId: ctx.jobId, requestId: ctx.requestId ?? null };
    const outcome = await prisma.$transaction(async (tx) => {
      // Claim the import item first (a row lock): a second delivery of this job that runs at the
      // same time (redelivered while this one waited on a database outage) must not import the
      // product again once the first linked it. Re-importing it would send a product already
      // translated back to `translating`, with the translation job's id (from this job's id)
      // already completed: it would stay there for good.
      const claimed = await tx.importItem.updateMany({ where: { importId: payload.importId, sourceUrl: payload.sourceUrl, productId: null }, data: { error: null } });
      if (claimed.count === 0) return { productId: null, started: false };
      let product = await tx.product.findUnique({ where: { sourceUrl: payload.sourceUrl } });
      let note: string | null = null;
      let started = false;
      if (!product) {
        product = await tx.product.create({ data: { id: uuidv7(), sourceUrl: payload.sourceUrl, status: "imported", ...fields } });
        await tx.productEvent.create({ data: { productId: product.id, fromStatus: null, toStatus: "imported", actor, details } });
        product = await applyTransition(tx, product, "translating", { actor, details });
        started = true;
      } else if (REIMPORTABLE.includes(product.status)) {
        product = await applyTransition(tx, product, "translating", { actor, details: { ...details, reimport: true }, data: fields });
        started = true;
      } else {
        note = `product is ${product.status}; content not re-imported`;
      }
      await tx.importItem.update({
        where: { importId_sourceUrl: { importId: payload.importId, sourceUrl: payload.sourceUrl } },
        data: { productId: product.id, error: note },
      });
      return { productId: product.id, started };
    });
    if (outcome.productId === null) {
      ctx.logger.info({ sourceUrl: payload.sourceUrl }, "another delivery of this import job already imported the product; nothing to do");
      return;
    }
    if (outcome.started) {
      imported.inc({ source: new URL(payload.sourceUrl).host });
      await enqueueTranslation(outcome.productId, ctx);
    }
    ctx.logger.info({ productId: outcome.productId, started: outcome.started, format: doc.format }, "source imported");
  };
}
