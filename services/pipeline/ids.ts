/**
 * Identifiers. Products and imports get UUIDv7 ids, so ordering by id is ordering by creation
 * (cursor pagination relies on it). Follow-up jobs get name-based ids derived from the job that
 * spawns them, so a redelivered job enqueues the same follow-up, not a second one.
 */
import { createHash, randomBytes } from "node:crypto";

export function uuidv7(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}

/** A stable UUID (version 5 layout, SHA-1) for a name: same name, same id. */
export function nameUuid(name: string): string {
  const b = createHash("sha1").update("product-platform:").update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}

function format(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
