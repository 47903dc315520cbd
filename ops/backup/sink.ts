/**
 * Where a dump goes: the interface the backup streams into, and its local-directory implementation
 * (tests, `--out`, and the restore drill). The S3 implementation is in s3-sink.ts.
 *
 * Life of a dump in a sink: write(body) consumes the stream (it rejects when the stream errors,
 * i.e. when pg_dump failed), verify(digest) reads back what the store kept and compares it with
 * what was sent, attach() stores small companions (checksum file, manifest) beside it, and
 * discard() removes everything written under this name after any failure.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DumpDigest } from "./digest-stream.js";

export interface DumpSink {
  /** Where the dump is: a file path or an s3:// URL. */
  readonly location: string;
  /** The part size the store splits objects into, for the per-part digests (undefined: one piece). */
  readonly partSize: number | undefined;
  write(body: Readable): Promise<void>;
  /** Throws DumpVerificationError when what the store kept differs from the digest of what was sent. */
  verify(digest: DumpDigest): Promise<void>;
  /** Stores a small companion object `<location><suffix>`. */
  attach(suffix: string, content: string): Promise<string>;
  /** Removes the dump and its companions (best effort, after a failure). */
  discard(): Promise<void>;
}

export class DumpVerificationError extends Error {
  constructor(location: string, problems: readonly string[]) {
    super(`verification of ${location} failed: ${problems.join("; ")}`);
    this.name = "DumpVerificationError";
  }
}

/** Compares what a store reports with what was sent; returns the differences. */
export function compareStored(sent: { bytes: number; checksum: string }, stored: { bytes: number | undefined; checksum: string | undefined }, checksumName: string): string[] {
  const problems: string[] = [];
  if (stored.bytes !== sent.bytes) problems.push(`size ${stored.bytes ?? "unknown"} bytes stored, ${sent.bytes} sent`);
  if (stored.checksum === undefined) problems.push(`the store reported no ${checksumName}`);
  else if (stored.checksum !== sent.checksum) problems.push(`${checksumName} ${stored.checksum} stored, ${sent.checksum} sent`);
  return problems;
}

export async function sha256File(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** A dump file in a local directory; written as `<name>.partial` and renamed once complete. */
export class LocalDirSink implements DumpSink {
  readonly location: string;
  readonly partSize = undefined;
  private readonly written: string[] = [];

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.location = join(dir, name);
  }

  async write(body: Readable): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const partial = `${this.location}.partial`;
    this.written.push(partial);
    await pipeline(body, createWriteStream(partial, { flags: "wx" }));
    await rename(partial, this.location);
    this.written.push(this.location);
  }

  async verify(digest: DumpDigest): Promise<void> {
    const stored = await stat(this.location).then(
      () => sha256File(this.location),
      () => undefined,
    );
    const problems = compareStored({ bytes: digest.bytes, checksum: digest.sha256 }, { bytes: stored?.bytes, checksum: stored?.sha256 }, "SHA-256");
    if (problems.length > 0) throw new DumpVerificationError(this.location, problems);
  }

  async attach(suffix: string, content: string): Promise<string> {
    const path = `${this.location}${suffix}`;
    this.written.push(path);
    await writeFile(path, content);
    return path;
  }

  async discard(): Promise<void> {
    for (const path of this.written) await rm(path, { force: true });
  }
}
