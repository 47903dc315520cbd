/**
 * Domain errors. The API maps them to problem+json (404/409/422); workers map them to job
 * outcomes. They carry no HTTP knowledge themselves.
 */
export type DomainErrorCode = "not_found" | "illegal_transition" | "version_conflict" | "invalid_request";

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const productNotFound = (id: string) => new DomainError("not_found", `product ${id} does not exist`, { productId: id });
