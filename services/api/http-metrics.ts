import type { NextFunction, Request, Response } from "express";
import { httpRequestDuration, httpRequestsTotal } from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";

/**
 * Counts and times every request, labelled by the route TEMPLATE (/v1/products/:id), never the
 * raw path, so label cardinality stays bounded. Unmatched paths share one label.
 */
export function httpMetrics(metrics: MetricsRegistry) {
  const total = metrics.counter(httpRequestsTotal);
  const duration = metrics.histogram(httpRequestDuration);
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const routePath = (req.route as { path?: string } | undefined)?.path;
      const route = routePath !== undefined ? `${req.baseUrl}${routePath}` : "unmatched";
      const labels = { method: req.method, route, status_code: String(res.statusCode) };
      total.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
