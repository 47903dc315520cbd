/**
 * Image processing with sharp: validate by fully decoding, then produce resized JPEG variants
 * and a WebP. Pixel and size limits guard against decompression bombs.
 */
import { createHash } from "node:crypto";
import sharp from "sharp";

/** libvips repeats its lines; keep each once, and keep it short. */
const reason = (err: unknown) => [...new Set((err as Error).message.split("\n").map((l) => l.trim()).filter(Boolean))].join("; ").slice(0, 300);

export class InvalidImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidImageError";
  }
}

export interface ImageOutput {
  readonly name: string;
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly contentType: string;
}

export interface ProcessedImage {
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly bytes: number;
  /** sha256 of the original bytes, hex. */
  readonly checksum: string;
  readonly outputs: readonly ImageOutput[];
}

export const VARIANTS = [
  { name: "thumb", width: 200 },
  { name: "medium", width: 800 },
] as const;
const ACCEPTED = new Set(["jpeg", "png", "webp", "gif", "avif", "tiff"]);
const MAX_PIXELS = 40_000_000;

export async function processImage(input: Buffer): Promise<ProcessedImage> {
  const checksum = createHash("sha256").update(input).digest("hex");
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(input, { limitInputPixels: MAX_PIXELS, failOn: "error" }).metadata();
  } catch (err) {
    throw new InvalidImageError(`not a readable image: ${reason(err)}`);
  }
  if (!meta.format || !ACCEPTED.has(meta.format)) throw new InvalidImageError(`unsupported image format ${meta.format ?? "(unknown)"}`);
  if (!meta.width || !meta.height) throw new InvalidImageError("image has no dimensions");
  const base = () => sharp(input, { limitInputPixels: MAX_PIXELS, failOn: "error" }).rotate();
  try {
    const outputs: ImageOutput[] = [];
    for (const v of VARIANTS) {
      const { data, info } = await base().resize({ width: v.width, withoutEnlargement: true }).jpeg({ quality: 82, mozjpeg: true }).toBuffer({ resolveWithObject: true });
      outputs.push({ name: v.name, body: data, width: info.width, height: info.height, format: "jpeg", contentType: "image/jpeg" });
    }
    const { data, info } = await base().webp({ quality: 80 }).toBuffer({ resolveWithObject: true });
    outputs.push({ name: "webp", body: data, width: info.width, height: info.height, format: "webp", contentType: "image/webp" });
    return { width: meta.width, height: meta.height, format: meta.format, bytes: input.length, checksum, outputs };
  } catch (err) {
    // Headers can be intact while the pixel data is not: decoding is the real validation.
    throw new InvalidImageError(`image cannot be decoded: ${reason(err)}`);
  }
}
