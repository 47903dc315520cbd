/**
 * GET /v1/products (status/source filters, cursor pagination), GET /v1/products/:id,
 * POST /v1/products/:id/review and POST /v1/products/:id/push. Reads and writes take an API
 * token: product data (supplier source URLs, prices, review state) is not public.
 */
import { Router } from "express";
import { z } from "zod";
import type { PipelineService } from "../../pipeline/service.js";
import { PRODUCT_STATUSES } from "../../pipeline/status.js";
import { requireBearer } from "../auth.js";
import { domainErrors, idParam, requestIdOf } from "./pipeline-common.js";

/** Cursors are opaque to clients: base64url of {"after": "<product id>"}. */
export function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString("base64url");
}
const cursor = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    try {
      const v = z.object({ after: z.uuid() }).parse(JSON.parse(Buffer.from(s, "base64url").toString("utf8")));
      return v.after;
    } catch {
      ctx.addIssue({ code: "custom", message: "invalid cursor; use nextCursor from the previous page" });
      return z.NEVER;
    }
  });

export const listQuery = z.strictObject({
  status: z
    .string()
    .transform((s) => s.split(",").map((x) => x.trim()))
    .pipe(z.array(z.enum(PRODUCT_STATUSES)).min(1).max(PRODUCT_STATUSES.length))
    .optional(),
  source: z.string().min(1).max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor.optional(),
});

export const reviewBody = z.strictObject({
  decision: z.enum(["approve", "reject"]),
  reviewer: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, "1-64 characters: letters, digits, . _ @ -"),
  notes: z.string().max(5000).optional(),
  /** The version the reviewer saw; a stale one is a 409. */
  version: z.number().int().nonnegative().optional(),
});

export function productsRouter(opts: { service: PipelineService; tokens: readonly string[] }): Router {
  const router = Router();
  router.use("/v1/products", requireBearer(opts.tokens));
  router.get("/v1/products", async (req, res) => {
    const q = listQuery.parse(req.query);
    const page = await opts.service.listProducts({ status: q.status, source: q.source, after: q.cursor, limit: q.limit });
    res.json({ items: page.items, nextCursor: page.nextAfter ? encodeCursor(page.nextAfter) : null });
  });
  router.get("/v1/products/:id", async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(await opts.service.getProduct(id));
  });
  router.post("/v1/products/:id/review", async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = reviewBody.parse(req.body);
    const result = await opts.service.review(id, body, requestIdOf(req));
    res.json({ product: result.product, reviewSeconds: result.reviewSeconds, pushJobId: result.pushJobId });
  });
  router.post("/v1/products/:id/push", async (req, res) => {
    const { id } = idParam.parse(req.params);
    z.union([z.undefined(), z.strictObject({})]).parse(req.body);
    const result = await opts.service.requestPush(id, requestIdOf(req));
    res.status(202).json(result);
  });
  router.use(domainErrors);
  return router;
}
