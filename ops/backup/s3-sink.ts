/**
 * A dump in S3, streamed with a multipart upload (no temporary file: the backup pod has no large
 * disk). Every part is sent with its SHA-256 (S3 rejects a part whose bytes do not match); after the
 * upload, HeadObject's size and SHA-256 checksum (the composite "base64(sha256(part digests))-N" for a
 * multipart object, the plain digest for a single PUT) must equal what was streamed.
 *
 * Kept thin on purpose: the streaming, hashing and failure handling it relies on are the backup's,
 * tested with the local sink. This file cannot run here (no S3); it is type-checked only.
 * IAM on the dumps bucket: s3:PutObject, s3:GetObject (HeadObject), s3:DeleteObject, s3:AbortMultipartUpload.
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Readable } from "node:stream";
import { s3Sha256Checksum, type DumpDigest } from "./digest-stream.js";
import { compareStored, DumpVerificationError, type DumpSink } from "./sink.js";

/** 64 MiB parts: up to 640 GiB per dump within S3's 10,000 parts, four parts in memory at a time. */
export const S3_PART_SIZE = 64 * 1024 * 1024;

export class S3Sink implements DumpSink {
  readonly location: string;
  readonly partSize = S3_PART_SIZE;
  private readonly keys: string[] = [];
  private upload: Upload | undefined;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly key: string,
  ) {
    this.location = `s3://${bucket}/${key}`;
  }

  static forRegion(region: string | undefined, bucket: string, key: string): S3Sink {
    return new S3Sink(new S3Client(region ? { region } : {}), bucket, key);
  }

  async write(body: Readable): Promise<void> {
    this.keys.push(this.key);
    this.upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: 4,
      leavePartsOnError: false,
      params: { Bucket: this.bucket, Key: this.key, Body: body, ContentType: "application/octet-stream", ChecksumAlgorithm: "SHA256", ServerSideEncryption: "aws:kms" },
    });
    await this.upload.done();
  }

  async verify(digest: DumpDigest): Promise<void> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key, ChecksumMode: "ENABLED" }));
    const problems = compareStored({ bytes: digest.bytes, checksum: s3Sha256Checksum(digest) }, { bytes: head.ContentLength, checksum: head.ChecksumSHA256 }, "ChecksumSHA256");
    if (problems.length > 0) throw new DumpVerificationError(this.location, problems);
  }

  async attach(suffix: string, content: string): Promise<string> {
    const key = `${this.key}${suffix}`;
    this.keys.push(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: content, ContentType: "text/plain; charset=utf-8", ChecksumAlgorithm: "SHA256", ServerSideEncryption: "aws:kms" }));
    return `s3://${this.bucket}/${key}`;
  }

  async discard(): Promise<void> {
    await this.upload?.abort().catch(() => undefined);
    for (const key of this.keys) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined);
  }
}
