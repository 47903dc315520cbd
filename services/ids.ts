/**
 * Time-ordered identifiers (UUIDv7: 48 bits of milliseconds, then random bits). Rows keyed by
 * them are inserted at the right edge of their primary-key index, so a big table's inserts
 * touch a few hot pages instead of random ones (a random UUID's insert reads and dirties an
 * arbitrary leaf page, and after each checkpoint writes it whole to the WAL).
 */
import { randomBytes } from "node:crypto";

export function uuidv7(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}

export function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
