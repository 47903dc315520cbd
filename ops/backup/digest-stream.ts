/**
 * The bytes of a dump, counted and hashed while they stream past: the whole object's SHA-256 and,
 * when the store splits the object into parts (S3 multipart), each part's SHA-256, so the store's
 * own checksum of what it kept can be compared with what was sent.
 *
 * The stream ends only when the producer (pg_dump) has exited: if it exits non-zero, even after it
 * sent bytes, the stream errors instead of ending, so no store completes a truncated dump.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export interface DumpDigest {
  readonly bytes: number;
  /** SHA-256 of the whole dump, hex. */
  readonly sha256: string;
  /** SHA-256 of each part (raw digests), when a part size was given. */
  readonly partSha256: readonly Buffer[];
  readonly partSize: number | undefined;
}

export class DigestStream extends Transform {
  private readonly whole = createHash("sha256");
  private part: Hash | undefined;
  private partFill = 0;
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  private result: DumpDigest | undefined;

  /**
   * @param producerDone resolves when the producer exited cleanly, rejects (with the reason) otherwise.
   * @param partSize the store's part size, for per-part digests (undefined: no parts).
   */
  constructor(
    private readonly producerDone: () => Promise<void>,
    private readonly partSize?: number,
  ) {
    super();
    if (partSize !== undefined && !(partSize > 0)) throw new Error(`part size must be positive, got ${partSize}`);
    if (partSize !== undefined) this.part = createHash("sha256");
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.whole.update(chunk);
    this.bytes += chunk.length;
    if (this.partSize !== undefined) this.hashParts(chunk, this.partSize);
    cb(null, chunk);
  }

  private hashParts(chunk: Buffer, partSize: number): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, partSize - this.partFill);
      this.part!.update(chunk.subarray(offset, offset + take));
      this.partFill += take;
      offset += take;
      if (this.partFill === partSize) {
        this.parts.push(this.part!.digest());
        this.part = createHash("sha256");
        this.partFill = 0;
      }
    }
  }

  override _flush(cb: TransformCallback): void {
    this.producerDone().then(
      () => {
        // A store always has at least one part; an exact multiple of the part size ends on a full part.
        if (this.partSize !== undefined && (this.partFill > 0 || this.parts.length === 0)) this.parts.push(this.part!.digest());
        this.result = { bytes: this.bytes, sha256: this.whole.digest("hex"), partSha256: this.parts, partSize: this.partSize };
        cb();
      },
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** The digest, once the stream has ended without error. */
  digest(): DumpDigest {
    if (!this.result) throw new Error("the dump stream has not finished");
    return this.result;
  }
}

/**
 * The SHA-256 checksum S3 reports for an object uploaded with ChecksumAlgorithm=SHA256: the base64
 * digest of the object when it was one PUT, otherwise the composite "base64(sha256(part digests))-N".
 */
export function s3Sha256Checksum(digest: DumpDigest): string {
  if (digest.partSha256.length <= 1) return Buffer.from(digest.sha256, "hex").toString("base64");
  const composite = createHash("sha256").update(Buffer.concat([...digest.partSha256])).digest("base64");
  return `${composite}-${digest.partSha256.length}`;
}
