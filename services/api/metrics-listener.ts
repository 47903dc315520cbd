/**
 * The metrics listener (METRICS_PORT, default model/workloads.ts METRICS_PORT): /metrics, the
 * detailed /readyz (each dependency check with its error) and /healthz, for Prometheus and the
 * kubelet. It is a separate port so that the internet-facing load balancer, which targets the
 * application port, can never reach it: the metrics carry queue depths, business counts and
 * dependency state, and every scrape runs broker and database queries. Scrapes and probes are
 * neither request-logged nor counted as API traffic.
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "../logger.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { notFound, problemHandler } from "./problem.js";
import { Readiness, type ReadinessCheck } from "./readiness.js";

export interface MetricsAppOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** The same Readiness as the application port's, or named checks. */
  readonly readiness: Readiness | Record<string, ReadinessCheck>;
}

export function createMetricsApp(opts: MetricsAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  const readiness = Readiness.of(opts.readiness, { logger: opts.logger });
  app.get("/metrics", async (_req, res) => {
    const { contentType, body } = await opts.metrics.expose();
    res.type(contentType).send(body);
  });
  app.get("/readyz", async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? "ready" : "not-ready", checks: report.checks });
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.use((req: Request, _res: Response, next: NextFunction) => next(notFound(`no route for ${req.method} ${req.path} on the metrics listener`)));
  app.use(problemHandler(opts.logger));
  return app;
}
