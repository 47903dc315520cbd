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

/** The two lowercase hex digits of each byte value, as character codes. */
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, "0");
  HEX_HI[i] = h.charCodeAt(0);
  HEX_LO[i] = h.charCodeAt(1);
}
const DASH = 45;
/** The id's 36 character codes, reused: the string is made from them in one piece. */
const CHARS = new Array<number>(36).fill(DASH);
/** Where each of the 16 bytes goes in the text form (the dashes sit at 8, 13, 18 and 23). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * The id is built as one flat string (String.fromCharCode), not by concatenation: a job id
 * lives until its publish is confirmed, and a concatenated one is a tree of some twenty
 * strings that every young-generation collection in between copies.
 */
export function uuidv7(now = Date.now()): string {
  if (poolAt + RANDOM_PER_ID > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += RANDOM_PER_ID;
  // 48 bits of milliseconds, big-endian; then the version (7) and the variant (10) bits.
  const hi = Math.floor(now / 2 ** 24);
  const lo = now % 2 ** 24;
  const p = POOL;
  put(0, (hi >>> 16) & 0xff);
  put(1, (hi >>> 8) & 0xff);
  put(2, hi & 0xff);
  put(3, (lo >>> 16) & 0xff);
  put(4, (lo >>> 8) & 0xff);
  put(5, lo & 0xff);
  put(6, 0x70 | (p[r]! & 0x0f));
  put(7, p[r + 1]!);
  put(8, 0x80 | (p[r + 2]! & 0x3f));
  for (let i = 9; i < 16; i++) put(i, p[r + i - 6]!);
  return String.fromCharCode.apply(null, CHARS);
}

function put(byte: number, value: number): void {
  const at = AT[byte]!;
  CHARS[at] = HEX_HI[value]!;
  CHARS[at + 1] = HEX_LO[value]!;
}

export function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
