/** POST /v1/source-checks: queue checks for every product ({"all": true}) or for some ({"productIds": [...]}). */
import { Router } from "express";
import { z } from "zod";
import type { PipelineService } from "../../pipeline/service.js";
import { requireBearer } from "../auth.js";
import { domainErrors, requestIdOf } from "./pipeline-common.js";

export const sourceCheckBody = z.union([z.strictObject({ all: z.literal(true) }), z.strictObject({ productIds: z.array(z.uuid()).min(1).max(1000) })]);

export function sourceChecksRouter(opts: { service: PipelineService; tokens: readonly string[] }): Router {
  const router = Router();
  router.use("/v1/source-checks", requireBearer(opts.tokens));
  router.post("/v1/source-checks", async (req, res) => {
    const body = sourceCheckBody.parse(req.body);
    const result = await opts.service.requestSourceChecks("all" in body ? { all: true } : { productIds: body.productIds }, requestIdOf(req));
    res.status(202).json(result);
  });
  router.use(domainErrors);
  return router;
}
