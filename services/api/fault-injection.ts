/**
 * A fault-injection switch for local runs and the e2e suite (FAULT_INJECTION=true; the config
 * refuses it when NODE_ENV=production). When on, an admin sets a share of /v1 requests to fail:
 *   PUT /v1/admin/fault-injection  {"http500Ratio": 0.06}     (ADMIN_TOKENS)
 * Failing requests throw inside the request pipeline, so they take the real failure path: the
 * problem+json error handler answers 500, the request log records it and the HTTP metrics count
 * it. The failures are spread evenly (every 1/ratio-th request), so a 6% ratio is 6% in every
 * window rather than on average.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import { requireBearer } from "./auth.js";

export const FAULT_INJECTION_PATH = "/v1/admin/fault-injection";

export class FaultInjector {
  private ratio = 0;
  private due = 0;

  get http500Ratio(): number {
    return this.ratio;
  }

  set(http500Ratio: number): void {
    this.ratio = http500Ratio;
    this.due = 0;
  }

  /** True for an even 1/ratio share of calls. */
  shouldFail(): boolean {
    if (this.ratio <= 0) return false;
    this.due += this.ratio;
    if (this.due >= 1 - 1e-9) {
      this.due -= 1;
      return true;
    }
    return false;
  }
}

export class InjectedFault extends Error {
  constructor(ratio: number) {
    super(`injected fault (FAULT_INJECTION is on, http500Ratio ${ratio})`);
    this.name = "InjectedFault";
  }
}

const settings = z.strictObject({ http500Ratio: z.number().min(0).max(1) });

/** The admin route, then the middleware that fails the configured share of the other /v1 requests. */
export function faultInjectionRouter(opts: { injector: FaultInjector; adminTokens: readonly string[] }): Router {
  const router = Router();
  router.get(FAULT_INJECTION_PATH, requireBearer(opts.adminTokens), (_req, res) => {
    res.json({ http500Ratio: opts.injector.http500Ratio });
  });
  router.put(FAULT_INJECTION_PATH, requireBearer(opts.adminTokens), (req, res) => {
    const body = settings.parse(req.body);
    opts.injector.set(body.http500Ratio);
    res.json({ http500Ratio: opts.injector.http500Ratio });
  });
  router.use("/v1", (_req: Request, _res: Response, next: NextFunction) => {
    next(opts.injector.shouldFail() ? new InjectedFault(opts.injector.http500Ratio) : undefined);
  });
  return router;
}
