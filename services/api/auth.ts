import { timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { forbidden, unauthorized } from "./problem.js";

function matches(token: string, allowed: readonly string[]): boolean {
  const t = Buffer.from(token);
  return allowed.some((a) => {
    const b = Buffer.from(a);
    return b.length === t.length && timingSafeEqual(b, t);
  });
}

/** Requires `Authorization: Bearer <token>` with one of the allowed tokens. */
export function requireBearer(allowed: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) return next(unauthorized());
    if (!matches(m[1], allowed)) return next(forbidden());
    next();
  };
}
