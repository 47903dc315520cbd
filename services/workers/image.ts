/**
 * image: download each of the product's images (safe fetch limits), validate by decoding,
 * produce resized variants and a WebP, store them, record dimensions and checksum, then move
 * the product to in_review. A corrupt image is permanent: the product fails with the reason
 * and the job goes to the dead letters with it. Images already processed in this run are kept;
 * objects of replaced images are left to the image garbage collector.
 */
import { z } from "zod";
import type { Prisma } from "../db/client.js";
import { PermanentJobError, type JobHandler } from "../jobs/types.js";
import { imagesProcessedTotal } from "../metrics.js";
import { FetchError, isTransientStatus, safeFetch } from "../pipeline/http.js";
import { uuidv7 } from "../pipeline/ids.js";
import { imageObjectKey } from "../pipeline/image-gc.js";
import { InvalidImageError, processImage } from "../pipeline/images.js";
import type { ProductPayload } from "../pipeline/jobs.js";
import { transitionProduct } from "../pipeline/products.js";
import { fail, type WorkerDeps } from "./common.js";

const payloadSchema = z.object({ productId: z.string().uuid() });
const sourceDataSchema = z.object({ images: z.array(z.string()).default([]) }).passthrough();

export function imageHandler(deps: WorkerDeps): JobHandler<ProductPayload> {
  const prisma = deps.db.prisma;
  const counter = deps.metrics.counter(imagesProcessedTotal);
  return async (raw, ctx) => {
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentJobError(`invalid image payload: ${parsed.error.message}`);
    const { productId } = parsed.data;
    const product = await prisma.product.findUnique({ where: { id: productId } });
    if (!product) throw new PermanentJobError(`product ${productId} does not exist`);
    if (product.status !== "processing_images") {
      ctx.logger.info({ productId, status: product.status }, "product is not processing images; nothing to do");
      return;
    }
    const urls = sourceDataSchema.safeParse(product.sourceData).data?.images ?? [];
    const existing = new Map(
      (await prisma.productImage.findMany({ where: { productId } })).map((i) => [i.position, i]),
    );
    for (const [position, url] of urls.entries()) {
      const have = existing.get(position);
      if (have && have.sourceUrl === url && have.checksum && have.createdAt >= product.statusChangedAt) continue;
      let res;
      try {
        res = await safeFetch(url, deps.fetchLimits, { headers: { accept: "image/*" }, signal: ctx.signal });
      } catch (err) {
        if (!(err instanceof FetchError)) throw err;
        counter.inc({ outcome: "download_error" });
        return fail(deps, ctx, productId, `image ${position} (${url}): ${err.message}`, err.transient, err);
      }
      if (res.status !== 200) {
        counter.inc({ outcome: "download_error" });
        return fail(deps, ctx, productId, `image ${position} (${url}): HTTP ${res.status}`, isTransientStatus(res.status));
      }
      let img;
      try {
        img = await processImage(res.body);
      } catch (err) {
        if (!(err instanceof InvalidImageError)) throw err;
        counter.inc({ outcome: "invalid" });
        return fail(deps, ctx, productId, `image ${position} (${url}) is corrupt: ${err.message}`, false, err);
      }
      // Keys are written once (a fresh id per processing): an unreferenced object past the
      // garbage collector's grace can never be named by a row again (services/pipeline/image-gc.ts).
      const writeId = uuidv7();
      const variants: Prisma.InputJsonValue[] = [];
      for (const o of img.outputs) {
        const ext = o.format === "jpeg" ? "jpg" : o.format;
        const stored = await deps.storage.put(imageObjectKey(productId, img.checksum, writeId, o.name, ext), o.body, o.contentType);
        variants.push({ name: o.name, width: o.width, height: o.height, format: o.format, bytes: o.body.length, key: stored.key, location: stored.location });
      }
      const data = { sourceUrl: url, width: img.width, height: img.height, format: img.format, bytes: img.bytes, checksum: img.checksum, variants, createdAt: new Date() };
      await prisma.productImage.upsert({
        where: { productId_position: { productId, position } },
        create: { id: uuidv7(), productId, position, ...data },
        update: data,
      });
      counter.inc({ outcome: "ok" });
    }
    await prisma.productImage.deleteMany({ where: { productId, position: { gte: urls.length } } });
    await transitionProduct(prisma, productId, "in_review", {
      actor: "worker:image",
      expectedVersion: product.version,
      details: { jobId: ctx.jobId, images: urls.length },
      data: { reviewStartedAt: new Date() },
    });
    ctx.logger.info({ productId, images: urls.length }, "images processed; product is in review");
  };
}
