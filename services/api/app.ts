/**
 * The application port's Express app: security headers, request ids, structured logs, HTTP
 * metrics, body limits, rate limits, the liveness and the yes/no readiness endpoints, and
 * problem+json errors. Feature routers are passed in; routes stay thin (parse with zod, call a
 * domain function, map the result). This port is the one the internet-facing load balancer
 * reaches: /metrics and the detailed readiness live on the metrics listener (metrics-listener.ts).
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
import { Readiness, type ReadinessCheck } from "./readiness.js";

export type { ReadinessCheck } from "./readiness.js";

export interface AppOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /**
   * The dependency checks behind /readyz: a Readiness shared with the metrics listener, or named
   * checks, e.g. { postgres, rabbitmq }.
   */
  readonly readiness: Readiness | Record<string, ReadinessCheck>;
  readonly routers?: readonly Router[];
  readonly bodyLimit?: string;
  readonly rateLimitPerMinute?: number;
  /** Benchmarks turn these off to measure their cost. */
  readonly httpMetrics?: boolean;
  readonly requestLogging?: boolean;
  readonly readinessTimeoutMs?: number;
  /**
   * How old a readiness result /readyz may answer with (default 1 s): however many requests
   * arrive, the dependencies see at most one check per interval.
   */
  readonly readinessMaxAgeMs?: number;
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
    app.use(requestLog(opts.logger, { ignore: (path) => path === "/healthz" }));
  }
  if (opts.httpMetrics ?? true) app.use(httpMetrics(opts.metrics));

  const readiness = Readiness.of(opts.readiness, { timeoutMs: opts.readinessTimeoutMs, logger: opts.logger });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // Only the verdict: which dependency failed, and why, is for the metrics listener and the logs.
  app.get("/readyz", async (_req, res) => {
    const { ready } = await readiness.report(opts.readinessMaxAgeMs ?? 1000);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not-ready" });
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
