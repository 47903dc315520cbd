/**
 * Object storage for processed images: S3 in production, a local directory by default. Keys
 * are what `put` returns (S3: with the configured prefix); `list` and `delete` speak the same
 * keys, for the image garbage collector (services/pipeline/image-gc.ts).
 */
import { lstat, mkdir, readdir, rename, rmdir, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

export interface StoredObject {
  /** As `put` returned it. */
  readonly key: string;
  readonly bytes: number;
  readonly lastModified: Date;
}

export interface ObjectPage {
  /** In key order. */
  readonly objects: readonly StoredObject[];
  /** Pass as `startAfter` for the next page; absent on the last page. */
  readonly next?: string;
}

export interface ObjectStorage {
  readonly kind: "local" | "s3";
  /** Stores bytes under `key` (overwriting: same key, same content, so retries are safe). */
  put(key: string, body: Buffer, contentType: string): Promise<{ key: string; location: string }>;
  /** One page of the objects whose key (relative to the storage's own prefix) starts with `prefix`, after `startAfter`. */
  list(opts: { prefix: string; startAfter?: string; limit: number }): Promise<ObjectPage>;
  /** Deletes the objects (keys as `put` and `list` return them); a missing one is no error. Returns the keys deleted. */
  delete(keys: readonly string[]): Promise<string[]>;
}

export class LocalStorage implements ObjectStorage {
  readonly kind = "local";
  private readonly root: string;
  constructor(dir: string) {
    this.root = resolve(dir);
  }

  private path(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`storage key escapes the storage directory: ${key}`);
    return path;
  }

  async put(key: string, body: Buffer, _contentType: string) {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, path);
    return { key, location: `file://${path}` };
  }

  /** Walks the directory under the prefix (a development driver: every page walks it again). */
  async list(opts: { prefix: string; startAfter?: string; limit: number }): Promise<ObjectPage> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile()) keys.push(relative(this.root, full).split(sep).join("/"));
      }
    };
    // The prefix's directory part bounds the walk; the rest filters names.
    const start = resolve(this.root, opts.prefix.slice(0, opts.prefix.lastIndexOf("/") + 1));
    if (start !== this.root && !start.startsWith(this.root + sep)) throw new Error(`storage prefix escapes the storage directory: ${opts.prefix}`);
    await walk(start);
    const page = keys
      .filter((k) => k.startsWith(opts.prefix) && (opts.startAfter === undefined || k > opts.startAfter))
      .sort()
      .slice(0, opts.limit + 1);
    const objects: StoredObject[] = [];
    for (const key of page.slice(0, opts.limit)) {
      const st = await lstat(this.path(key)).catch(() => undefined); // deleted meanwhile: not listed
      if (st) objects.push({ key, bytes: st.size, lastModified: st.mtime });
    }
    return { objects, ...(page.length > opts.limit ? { next: page[opts.limit - 1] } : {}) };
  }

  async delete(keys: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const key of keys) {
      const path = this.path(key);
      try {
        await unlink(path);
        deleted.push(key);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      // Empty directories left behind go too (up to the root); a non-empty one stops it.
      for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    }
    return deleted;
  }
}

export interface S3StorageOptions {
  readonly bucket: string;
  readonly region?: string;
  /** For S3-compatible stores (MinIO, LocalStack). */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly prefix?: string;
}

export class S3Storage implements ObjectStorage {
  readonly kind = "s3";
  private readonly client: S3Client;
  constructor(private readonly opts: S3StorageOptions) {
    this.client = new S3Client({ region: opts.region ?? "us-east-1", endpoint: opts.endpoint, forcePathStyle: opts.forcePathStyle });
  }
  async put(key: string, body: Buffer, contentType: string) {
    const fullKey = `${this.opts.prefix ?? ""}${key}`;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.opts.bucket, Key: fullKey, Body: body, ContentType: contentType, CacheControl: "public, max-age=31536000, immutable" }),
    );
    return { key: fullKey, location: `s3://${this.opts.bucket}/${fullKey}` };
  }

  /** ListObjectsV2 pages by StartAfter (a key), so a caller can resume from any key it saw. */
  async list(opts: { prefix: string; startAfter?: string; limit: number }): Promise<ObjectPage> {
    const out = await this.client.send(
      new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: `${this.opts.prefix ?? ""}${opts.prefix}`, StartAfter: opts.startAfter, MaxKeys: Math.min(opts.limit, 1000) }),
    );
    const objects = (out.Contents ?? [])
      .filter((o): o is typeof o & { Key: string } => typeof o.Key === "string")
      .map((o) => ({ key: o.Key, bytes: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }));
    const last = objects.at(-1)?.key;
    return { objects, ...(out.IsTruncated && last ? { next: last } : {}) };
  }

  /** DeleteObjects in batches of 1000 (the API's limit); per-key errors fail the call after the batch. */
  async delete(keys: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.opts.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = new Map((out.Errors ?? []).map((e) => [e.Key, `${e.Code}: ${e.Message}`]));
      deleted.push(...batch.filter((k) => !failed.has(k)));
      if (failed.size > 0) {
        throw Object.assign(new Error(`S3 DeleteObjects failed for ${failed.size} key(s): ${[...failed].slice(0, 3).map(([k, e]) => `${k} (${e})`).join(", ")}`), { deleted });
      }
    }
    return deleted;
  }
}
