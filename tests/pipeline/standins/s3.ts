/**
 * A stand-in for the part of the Amazon S3 REST API the image storage uses, path-style, written
 * from the S3 API reference: PutObject (PUT /<bucket>/<key>, aws-chunked bodies included),
 * ListObjectsV2 (GET /<bucket>?list-type=2 with prefix, start-after, max-keys; keys in UTF-8
 * binary order) and DeleteObjects (POST /<bucket>?delete with the XML body, Quiet mode, a
 * missing key counted as deleted, as S3 does). Requests must carry a SigV4 Authorization
 * header; signatures are not verified. It is not S3: it shows that the driver speaks the
 * protocol as documented, not that a real bucket behaves the same.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, type Listening } from "./http-util.js";

interface S3Object {
  body: Buffer;
  contentType: string;
  lastModified: Date;
  etag: string;
}

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const xmlUnescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

/** Decodes an aws-chunked body (signed or unsigned chunks, optional trailing checksum headers). */
function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", i);
    if (eol < 0) throw new Error("malformed aws-chunked body");
    const size = parseInt(raw.subarray(i, eol).toString("latin1").split(";")[0]!, 16);
    i = eol + 2;
    if (size === 0) return Buffer.concat(out);
    out.push(raw.subarray(i, i + size));
    i += size + 2;
  }
}

export class S3Standin {
  readonly buckets = new Map<string, Map<string, S3Object>>();
  readonly requests: { method: string; path: string; query: string }[] = [];
  private listening!: Listening;

  static async start(buckets: string[]): Promise<S3Standin> {
    const s = new S3Standin();
    for (const b of buckets) s.buckets.set(b, new Map());
    s.listening = await listen((req, res, url) => s.handle(req, res, url));
    return s;
  }

  get url(): string {
    return this.listening.url;
  }
  close(): Promise<void> {
    return this.listening.close();
  }

  /** Test hook: makes an object look `ms` old (what S3 would report as LastModified). */
  age(bucket: string, key: string, ms: number): void {
    const o = this.buckets.get(bucket)?.get(key);
    if (o) o.lastModified = new Date(Date.now() - ms);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.requests.push({ method: req.method ?? "", path: url.pathname, query: url.search });
    const reply = (status: number, body = "", headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const error = (status: number, code: string, message: string) =>
      reply(status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
    if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) return error(403, "AccessDenied", "missing SigV4 signature");
    const [, bucketName, ...rest] = url.pathname.split("/");
    const bucket = this.buckets.get(decodeURIComponent(bucketName ?? ""));
    if (!bucket) return error(404, "NoSuchBucket", "The specified bucket does not exist");
    const key = rest.map(decodeURIComponent).join("/");
    const raw = await readBody(req, 64 * 1024 * 1024);

    if (req.method === "PUT" && key) {
      const chunked = String(req.headers["content-encoding"] ?? "").includes("aws-chunked") || String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
      const body = chunked ? decodeAwsChunked(raw) : raw;
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      bucket.set(key, { body, contentType: String(req.headers["content-type"] ?? "binary/octet-stream"), lastModified: new Date(), etag });
      return reply(200, "", { etag });
    }
    if (req.method === "GET" && !key && url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const startAfter = url.searchParams.get("start-after") ?? "";
      const maxKeys = Math.min(1000, Number(url.searchParams.get("max-keys") ?? 1000));
      const keys = [...bucket.keys()]
        .filter((k) => k.startsWith(prefix) && k > startAfter)
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const page = keys.slice(0, maxKeys);
      const contents = page
        .map((k) => {
          const o = bucket.get(k)!;
          return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        })
        .join("");
      return reply(
        200,
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="${NS}"><Name>${xmlEscape(bucketName!)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
          `${startAfter ? `<StartAfter>${xmlEscape(startAfter)}</StartAfter>` : ""}<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
          `<IsTruncated>${keys.length > maxKeys}</IsTruncated>${contents}</ListBucketResult>`,
      );
    }
    if (req.method === "POST" && !key && url.searchParams.has("delete")) {
      const xml = raw.toString("utf8");
      const keys = [...xml.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
      if (keys.length > 1000) return error(400, "MalformedXML", "more than 1000 keys");
      const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(xml);
      for (const k of keys) bucket.delete(k);
      const deleted = quiet ? "" : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join("");
      return reply(200, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="${NS}">${deleted}</DeleteResult>`);
    }
    return error(501, "NotImplemented", `${req.method} ${url.pathname}${url.search} is not part of this stand-in`);
  }
}
