/**
 * Time-ordered identifiers (UUIDv7: 48 bits of milliseconds, then random bits). Rows keyed by
 * them are inserted at the right edge of their primary-key index, so a big table's inserts
 * touch a few hot pages instead of random ones (a random UUID's insert reads and dirties an
 * arbitrary leaf page, and after each checkpoint writes it whole to the WAL).
 */
import { randomFillSync } from "node:crypto";

/**
 * Random bytes are drawn from the OS in blocks of 4 KiB and handed out 10 at a time (as Node's
 * randomUUID caches its entropy): one getrandom call per 409 ids instead of one per id, which
 * was 6% of the engine's CPU when enqueueing (npm run bench:jobs, single enqueue).
 */
const POOL = Buffer.allocUnsafe(4096);
const RANDOM_PER_ID = 10;
let poolAt = POOL.length;

/** Two lowercase hex digits for each byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function uuidv7(now = Date.now()): string {
  if (poolAt + RANDOM_PER_ID > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += RANDOM_PER_ID;
  // 48 bits of milliseconds, big-endian.
  const hi = Math.floor(now / 2 ** 24);
  const lo = now % 2 ** 24;
  const t = HEX[(hi >>> 16) & 0xff]! + HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[(lo >>> 16) & 0xff]! + "-" + HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]!;
  const p = POOL;
  return (
    t + "-" +
    HEX[0x70 | (p[r]! & 0x0f)]! + HEX[p[r + 1]!]! + "-" +
    HEX[0x80 | (p[r + 2]! & 0x3f)]! + HEX[p[r + 3]!]! + "-" +
    HEX[p[r + 4]!]! + HEX[p[r + 5]!]! + HEX[p[r + 6]!]! + HEX[p[r + 7]!]! + HEX[p[r + 8]!]! + HEX[p[r + 9]!]!
  );
}

export function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
