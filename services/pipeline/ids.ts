/**
 * Identifiers. Products and imports get UUIDv7 ids, so ordering by id is ordering by creation
 * (cursor pagination relies on it). Follow-up jobs get name-based ids derived from the job that
 * spawns them, so a redelivered job enqueues the same follow-up, not a second one.
 */
import { createHash } from "node:crypto";
import { formatUuid, UUID_RE, uuidv7 } from "../ids.js";

export { UUID_RE, uuidv7 };

/** A stable UUID (version 5 layout, SHA-1) for a name: same name, same id. */
export function nameUuid(name: string): string {
  const b = createHash("sha1").update("product-platform:").update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}
