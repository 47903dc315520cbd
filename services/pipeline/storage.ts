/**
 * Object storage for processed images: S3 in production, a local directory by default.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

export interface ObjectStorage {
  readonly kind: "local" | "s3";
  /** Stores bytes under `key` (overwriting: same key, same content, so retries are safe). */
  put(key: string, body: Buffer, contentType: string): Promise<{ key: string; location: string }>;
}

export class LocalStorage implements ObjectStorage {
  readonly kind = "local";
  private readonly root: string;
  constructor(dir: string) {
    this.root = resolve(dir);
  }
  async put(key: string, body: Buffer, _contentType: string) {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`storage key escapes the storage directory: ${key}`);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, path);
    return { key, location: `file://${path}` };
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
}
