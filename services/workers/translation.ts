/**
 * translation: translate title and description into every target language through the
 * TranslationProvider, then move the product to processing_images and queue its images.
 * Languages already translated in this run (since the product entered `translating`) are
 * skipped on a retry, so a 429 on the second language does not re-translate the first.
 */
import { z } from "zod";
import { PermanentJobError, type JobHandler } from "../jobs/types.js";
import { translationsTotal } from "../metrics.js";
import { nameUuid } from "../pipeline/ids.js";
import type { ProductPayload } from "../pipeline/jobs.js";
import { transitionProduct } from "../pipeline/products.js";
import { ProviderError } from "../pipeline/provider-error.js";
import { fail, type WorkerDeps } from "./common.js";

const payloadSchema = z.object({ productId: z.string().uuid() });

export function translationHandler(deps: WorkerDeps): JobHandler<ProductPayload> {
  const prisma = deps.db.prisma;
  const counter = deps.metrics.counter(translationsTotal);
  return async (raw, ctx) => {
    const parsed = payloadSchema.safeParse(raw);
    if (!parsed.success) throw new PermanentJobError(`invalid translation payload: ${parsed.error.message}`);
    const { productId } = parsed.data;
    const nextJob = () => deps.jobs.enqueue("image", { productId }, { requestId: ctx.requestId, jobId: nameUuid(`image:${ctx.jobId}`) });

    const product = await prisma.product.findUnique({ where: { id: productId } });
    if (!product) throw new PermanentJobError(`product ${productId} does not exist`);
    if (product.status === "processing_images") return void (await nextJob()); // redelivery after the transition
    if (product.status !== "translating") {
      ctx.logger.info({ productId, status: product.status }, "product is not translating; nothing to do");
      return;
    }
    const done = new Set(
      (await prisma.translation.findMany({ where: { productId, createdAt: { gte: product.statusChangedAt } }, select: { language: true } })).map((t) => t.language),
    );
    for (const language of deps.config.TARGET_LANGUAGES) {
      if (done.has(language)) continue;
      let title = product.title;
      let description = product.description;
      let provider = "source";
      if (language !== product.sourceLanguage) {
        const texts = description ? [product.title, product.description] : [product.title];
        try {
          const out = await deps.translator.translate(texts, product.sourceLanguage, language, ctx.signal);
          title = out[0]!;
          description = description ? out[1]! : "";
          provider = deps.translator.name;
          counter.inc({ language, outcome: "ok" });
        } catch (err) {
          if (!(err instanceof ProviderError)) throw err;
          counter.inc({ language, outcome: err.transient ? "retry" : "error" });
          return fail(deps, ctx, productId, `translation to ${language} failed: ${err.message}`, err.transient, err);
        }
      }
      const now = new Date();
      await prisma.translation.upsert({
        where: { productId_language: { productId, language } },
        create: { productId, language, title, description, provider, createdAt: now },
        update: { title, description, provider, createdAt: now },
      });
    }
    await transitionProduct(prisma, productId, "processing_images", {
      actor: "worker:translation",
      expectedVersion: product.version,
      details: { jobId: ctx.jobId, languages: deps.config.TARGET_LANGUAGES },
    });
    await nextJob();
    ctx.logger.info({ productId, languages: deps.config.TARGET_LANGUAGES, translated: deps.config.TARGET_LANGUAGES.length - done.size }, "product translated");
  };
}
