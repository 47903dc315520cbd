/**
 * One structured log line per request (id, method, url, status, duration), at info, warn for
 * 4xx and error for 5xx. The per-request child logger (`req.log`, bound to the request id) is
 * created only when something asks for it: creating a pino child for every request was the
 * largest part of the middleware's cost in bench:api.
 */
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logger.js";

type WithLog = Request & { id: string; log: Logger };

export function requestLog(logger: Logger, opts: { ignore?: (path: string) => boolean } = {}) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const r = req as WithLog;
    let child: Logger | undefined;
    Object.defineProperty(r, "log", {
      configurable: true,
      enumerable: false,
      get: () => (child ??= logger.child({ reqId: r.id })),
    });
    if (opts.ignore?.(req.path)) return next();
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const status = res.statusCode;
      const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        { reqId: r.id, method: req.method, url: req.originalUrl, statusCode: status, responseTimeMs: Number(process.hrtime.bigint() - start) / 1e6 },
        "request completed",
      );
    });
    next();
  };
}
