/** POST /v1/imports (one source URL or a batch) and GET /v1/imports/:id (progress per product); both take an API token. */
import { Router } from "express";
import { z } from "zod";
import type { PipelineService } from "../../pipeline/service.js";
import { requireBearer } from "../auth.js";
import { domainErrors, idParam, requestIdOf } from "./pipeline-common.js";

export const MAX_BATCH = 100;
const sourceUrl = z
  .string()
  .max(2048)
  .refine((s) => /^https?:\/\//i.test(s) && URL.canParse(s), { message: "must be an absolute http(s) URL" });

export const importBody = z.union([
  z.strictObject({ sourceUrl }),
  z.strictObject({ sourceUrls: z.array(sourceUrl).min(1).max(MAX_BATCH) }),
]);

export function importsRouter(opts: { service: PipelineService; tokens: readonly string[] }): Router {
  const router = Router();
  router.use("/v1/imports", requireBearer(opts.tokens));
  router.post("/v1/imports", async (req, res) => {
    const body = importBody.parse(req.body);
    const urls = "sourceUrl" in body ? [body.sourceUrl] : body.sourceUrls;
    const result = await opts.service.createImport(urls, requestIdOf(req));
    res
      .status(202)
      .location(`/v1/imports/${result.importId}`)
      .json({ importId: result.importId, status: `/v1/imports/${result.importId}`, items: result.items });
  });
  router.get("/v1/imports/:id", async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(await opts.service.getImport(id));
  });
  router.use(domainErrors);
  return router;
}
