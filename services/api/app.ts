/**
 * The Express application: security headers, request ids, structured logs, HTTP metrics,
 * body limits, rate limits, health endpoints and problem+json errors. Feature routers are
 * passed in; routes stay thin (parse with zod, call a domain function, map the result).
 */
import { randomUUID } from "node:crypto";
import express, { type Express, type NextFunction, type Request, type Response, type Router } from "express";
import { rateLimit } from "express-rate-limit";
import helmet from "helmet";
import type { Logger } from "../logger.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { httpMetrics } from "./http-metrics.js";
import { requestLog } from "./request-log.js";
import { notFound, problemHandler, sendProblem, HttpProblem } from "./problem.js";

export type ReadinessCheck = () => Promise<void>;

export interface AppOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Named dependency checks for /readyz, e.g. { postgres, rabbitmq }. */
  readonly readiness: Record<string, ReadinessCheck>;
  readonly routers?: readonly Router[];
  readonly bodyLimit?: string;
  readonly rateLimitPerMinute?: number;
  /** Benchmarks turn these off to measure their cost. */
  readonly httpMetrics?: boolean;
  readonly requestLogging?: boolean;
  readonly readinessTimeoutMs?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(opts: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", 1);
  app.use(helmet());
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header("x-request-id");
    const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    (req as Request & { id: string }).id = id;
    res.setHeader("x-request-id", id);
    next();
  });
  if (opts.requestLogging ?? true) {
    app.use(requestLog(opts.logger, { ignore: (path) => path === "/metrics" || path === "/healthz" }));
  }
  if (opts.httpMetrics ?? true) app.use(httpMetrics(opts.metrics));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const results = await checkAll(opts.readiness, opts.readinessTimeoutMs ?? 2000);
    const ready = Object.values(results).every((r) => r === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not-ready", checks: results });
  });
  app.get("/metrics", async (_req, res) => {
    const { contentType, body } = await opts.metrics.expose();
    res.type(contentType).send(body);
  });

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: opts.rateLimitPerMinute ?? 600,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (req, res) =>
      sendProblem(res, new HttpProblem(429, "rate-limited", "Too many requests", "slow down: the per-client rate limit was exceeded"), req.originalUrl),
  });
  app.use("/v1", limiter, express.json({ limit: opts.bodyLimit ?? "256kb", strict: true }));
  for (const router of opts.routers ?? []) app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => next(notFound(`no route for ${req.method} ${req.path}`)));
  app.use(problemHandler(opts.logger));
  return app;
}

async function checkAll(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, "ok"] as const;
      } catch (err) {
        return [name, `down: ${(err as Error).message}`] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
