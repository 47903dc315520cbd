/**
 * RFC 9457 problem details. Every error the API returns is `application/problem+json` with a
 * stable `type`, a human `title`, the `status`, and a `detail` saying what to fix.
 */
import type { NextFunction, Request, Response } from "express";
import { ZodError } from "zod";
import type { Logger } from "../logger.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const TYPE_BASE = "https://product-platform.dev/problems/";

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = "HttpProblem";
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) => new HttpProblem(400, "bad-request", "Bad request", detail, extra);
export const unauthorized = (detail = "a valid bearer token is required") => new HttpProblem(401, "unauthorized", "Unauthorized", detail);
export const forbidden = (detail = "this token may not call this endpoint") => new HttpProblem(403, "forbidden", "Forbidden", detail);
export const notFound = (detail: string) => new HttpProblem(404, "not-found", "Not found", detail);
export const conflict = (detail: string, extra?: Record<string, unknown>) => new HttpProblem(409, "conflict", "Conflict", detail, extra);
export const unavailable = (detail: string) => new HttpProblem(503, "unavailable", "Service unavailable", detail);

export function sendProblem(res: Response, p: HttpProblem, instance?: string): void {
  res
    .status(p.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify({ type: TYPE_BASE + p.slug, title: p.title, status: p.status, detail: p.detail, instance, ...p.extra }));
}

/** Maps anything thrown in a route to problem+json; only unexpected errors are 500s. */
export function problemHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    sendProblem(res, toProblem(err, req, logger), req.originalUrl);
  };
}

function toProblem(err: unknown, req: Request, logger: Logger): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    return badRequest(issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; "), { issues });
  }
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
  // body-parser errors carry a status and a type.
  if (e?.type === "entity.too.large") return new HttpProblem(413, "payload-too-large", "Payload too large", e.message);
  if (e?.type === "entity.parse.failed") return badRequest(`malformed JSON body: ${e.message}`);
  const status = e?.status ?? e?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new HttpProblem(status, "client-error", "Client error", e.message);
  }
  const log = (req as Request & { log?: Logger }).log ?? logger;
  log.error({ err }, "unhandled error");
  return new HttpProblem(500, "internal", "Internal server error", "the server failed to handle this request; it has been logged");
}
