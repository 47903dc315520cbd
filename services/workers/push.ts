/**
 * push: send an approved product to the store with an idempotency key derived from the
 * product id and the version of its content, record the store's id and move the product to
 * pushed. products_pushed_total counts the transition to pushed, so it counts each product
 * once. A pushed product sent again unchanged uses the same key: the store replays its answer
 * and writes nothing. A product changed since its push (a new price, a newer version) gets a
 * new key, so the store receives the change (it updates its product for our externalId).
 * A redelivery of the job that already pushed the product (its outcome was lost to a crash or a
 * dropped connection after the transition committed) is done: it completes without asking the
 * store again, so a store outage at that moment cannot dead-letter work that landed. For the
 * same reason a run whose store call fails looks again before it fails: a twin run of the same
 * job may have pushed the product in the meantime.
 */
import { z } from "zod";
import { PermanentJobError, type JobHandler } from "../jobs/types.js";
import { productsPushedTotal } from "../metrics.js";
import type { ProductPayload } from "../pipeline/jobs.js";
import { transitionProduct } from "../pipeline/products.js";
import { ProviderError } from "../pipeline/provider-error.js";
import type { StoreProductInput } from "../pipeline/store.js";
import { fail, type WorkerDeps } from "./common.js";

const payloadSchema = z.object({ productId: z.string().uuid() });

export const storeIdempotencyKey = (productId: string, contentVersion: number) => `product-${productId}-v${contentVersion}`;

/**
 * The version of the content a push sends: the product's version, except that the bump of the
 * transition to pushed is no change of content (an unchanged re-push keeps the first key).
 */
export function contentVersion(p: { status: string; version: number; pushedVersion: number | null }): number {
  return p.status === "pushed" && p.pushedVersion !== null && p.version === p.pushedVersion + 1 ? p.pushedVersion : p.version;
}

/** True when the product's transition to pushed was made by this job (its details carry the job id). */
async function pushedByJob(prisma: WorkerDeps["db"]["prisma"], productId: string, jobId: string): Promise<boolean> {
  const event = await prisma.productEvent.findFirst({ where: { productId, toStatus: "pushed", details: { path: ["jobId"], equals: jobId } }, select: { id: true } });
  return event !== null;
}

export function pushHandler(deps: WorkerDeps): JobHandler<ProductPayload> {
  const prisma = deps.db.prisma;
  const pushed = deps.metrics.counter(productsPushedTotal);
  return async (raw, ctx) => {
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentJobError(`invalid push payload: ${parsed.error.message}`);
    const { productId } = parsed.data;
    const product = await prisma.product.findUnique({
      where: { id: productId },
      include: { translations: true, images: { orderBy: { position: "asc" } } },
    });
    if (!product) throw new PermanentJobError(`product ${productId} does not exist`);
    if (product.status !== "approved" && product.status !== "pushed") {
      ctx.logger.info({ productId, status: product.status }, "product is neither approved nor pushed; not pushing");
      return;
    }
    if (product.status === "pushed" && (await pushedByJob(prisma, productId, ctx.jobId))) {
      ctx.logger.info({ productId, storeProductId: product.storeProductId }, "this job already pushed the product (a redelivery); nothing to do");
      return;
    }
    const body: StoreProductInput = {
      externalId: product.id,
      sourceUrl: product.sourceUrl,
      title: product.title,
      description: product.description,
      price: product.price?.toFixed(2) ?? null,
      currency: product.currency,
      translations: Object.fromEntries(product.translations.map((t) => [t.language, { title: t.title, description: t.description }])),
      images: product.images.map((i) => ({ position: i.position, variants: i.variants })),
    };
    let result;
    try {
      result = await deps.store.pushProduct(body, storeIdempotencyKey(productId, contentVersion(product)), ctx.signal);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (product.status === "pushed") throw err.transient ? err : new PermanentJobError(err.message, { cause: err });
      // A twin run of this job (a redelivery beside a run that still goes on) may have pushed it meanwhile.
      if (await pushedByJob(prisma, productId, ctx.jobId)) {
        ctx.logger.info({ productId, err: err.message }, "the store call failed, but another run of this job pushed the product; nothing to do");
        return;
      }
      return fail(deps, ctx, productId, `push to the store failed: ${err.message}`, err.transient, err);
    }
    if (product.status === "pushed") {
      if (product.storeProductId !== result.storeProductId) {
        ctx.logger.warn({ productId, recorded: product.storeProductId, store: result.storeProductId }, "store returned a different product id on re-push");
      }
      ctx.logger.info({ productId, storeProductId: result.storeProductId, created: result.created }, "re-push: already pushed");
      return;
    }
    await transitionProduct(prisma, productId, "pushed", {
      actor: "worker:push",
      expectedVersion: product.version,
      details: { jobId: ctx.jobId, storeProductId: result.storeProductId, created: result.created },
      data: { storeProductId: result.storeProductId, pushedAt: new Date(), pushedVersion: product.version },
    });
    pushed.inc();
    ctx.logger.info({ productId, storeProductId: result.storeProductId, created: result.created }, "product pushed to the store");
  };
}
