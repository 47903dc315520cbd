/** Shared pieces of the pipeline routes: the request id, and domain errors as problem+json. */
import type { NextFunction, Request, Response } from "express";
import { z } from "zod";
import { DomainError } from "../../pipeline/errors.js";
import { badRequest, conflict, notFound } from "../problem.js";

export const requestIdOf = (req: Request): string | undefined => (req as Request & { id?: string }).id;

export const idParam = z.object({ id: z.uuid({ message: "must be a UUID" }) });

/** Router-level error middleware: DomainError -> 400/404/409; anything else goes on. */
export function domainErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  if (!(err instanceof DomainError)) return next(err);
  switch (err.code) {
    case "not_found":
      return next(notFound(err.message));
    case "illegal_transition":
    case "version_conflict":
      return next(conflict(err.message, { code: err.code, ...err.details }));
    case "invalid_request":
      return next(badRequest(err.message, err.details));
  }
}
