/**
 * A supplier web site: product pages as JSON documents, HTML with schema.org JSON-LD, or
 * HTML with Open Graph tags; ETag/Last-Modified with conditional GET (304); products that
 * vanish (404/410); real images generated with sharp at start; a corrupt image; slow
 * responses, huge bodies, redirect chains and absolute redirects to other hosts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import sharp from "sharp";
import { Faults, listen, sendJson, sleep, type Listening } from "./http-util.js";

export type PageFormat = "json" | "json-ld" | "open-graph";

export interface SourceProductDoc {
  title: string;
  description: string;
  price: string;
  currency: string;
  language?: string;
  /** Image names served by this site (see `images`), or absolute URLs. */
  images: string[];
  format: PageFormat;
}

interface Entry {
  doc: SourceProductDoc;
  rev: number;
  modified: Date;
  gone?: 404 | 410;
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export class SourceSite {
  readonly faults = new Faults();
  readonly requests: { method: string; path: string; headers: Record<string, string | string[] | undefined> }[] = [];
  private readonly products = new Map<string, Entry>();
  private readonly images = new Map<string, { body: Buffer; type: string }>();
  private listening!: Listening;

  static async start(opts: { port?: number } = {}): Promise<SourceSite> {
    const site = new SourceSite();
    await site.addImage("red.jpg", { width: 1200, height: 800, color: "#c0392b", format: "jpeg" });
    await site.addImage("blue.png", { width: 640, height: 640, color: "#2980b9", format: "png" });
    await site.addImage("green.jpg", { width: 300, height: 200, color: "#27ae60", format: "jpeg" });
    // A JPEG that starts like one (SOI + JFIF APP0) and then is garbage: headers lie, decoding fails.
    const good = site.images.get("red.jpg")!.body;
    site.images.set("corrupt.jpg", { body: Buffer.concat([good.subarray(0, 20), Buffer.alloc(4000, 0x5a)]), type: "image/jpeg" });
    site.images.set("not-an-image.jpg", { body: Buffer.from("<html>this is not an image</html>"), type: "image/jpeg" });
    site.listening = await listen((req, res, url) => site.handle(req, res, url), opts.port);
    return site;
  }

  get url(): string {
    return this.listening.url;
  }
  pageUrl(slug: string): string {
    return `${this.url}/p/${slug}`;
  }
  close(): Promise<void> {
    return this.listening.close();
  }

  async addImage(name: string, o: { width: number; height: number; color: string; format: "jpeg" | "png" }): Promise<void> {
    const img = sharp({ create: { width: o.width, height: o.height, channels: 3, background: o.color } });
    const body = o.format === "jpeg" ? await img.jpeg().toBuffer() : await img.png().toBuffer();
    this.images.set(name, { body, type: `image/${o.format}` });
  }

  setProduct(slug: string, doc: SourceProductDoc): string {
    const prev = this.products.get(slug);
    this.products.set(slug, { doc, rev: (prev?.rev ?? 0) + 1, modified: new Date(Math.floor(Date.now() / 1000) * 1000) });
    return this.pageUrl(slug);
  }
  setPrice(slug: string, price: string): void {
    const e = this.products.get(slug)!;
    this.setProduct(slug, { ...e.doc, price });
  }
  remove(slug: string, status: 404 | 410 = 410): void {
    this.products.get(slug)!.gone = status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.requests.push({ method: req.method ?? "GET", path: url.pathname, headers: req.headers });
    const fault = this.faults.take();
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.status) return sendJson(res, fault.status, fault.body ?? { error: "injected" });
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] === "p" && parts[1]) return this.page(req, res, parts[1]);
    if (parts[0] === "img" && parts[1]) {
      const img = this.images.get(parts[1]);
      if (!img) return sendJson(res, 404, { error: "no such image" });
      res.writeHead(200, { "content-type": img.type, "content-length": img.body.length });
      return void res.end(img.body);
    }
    if (parts[0] === "slow") {
      await sleep(Number(parts[1] ?? 1000));
      return sendJson(res, 200, { title: "Slow product", price: "1.00" });
    }
    if (parts[0] === "huge") {
      // No content-length: the client must cap while streaming.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < Number(parts[1] ?? 200) && !res.destroyed; i++) {
        if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
      }
      return void res.end("{}");
    }
    if (parts[0] === "redirect") {
      const n = Number(parts[1] ?? 1);
      const target = n <= 1 ? `/p/${parts[2] ?? "missing"}` : `/redirect/${n - 1}/${parts[2] ?? "missing"}`;
      res.writeHead(302, { location: target });
      return void res.end();
    }
    if (parts[0] === "redirect-to") {
      // An absolute redirect to anywhere (another host): /redirect-to?location=<url>
      res.writeHead(302, { location: url.searchParams.get("location") ?? "/" });
      return void res.end();
    }
    if (parts[0] === "status") return sendJson(res, Number(parts[1] ?? 500), { error: "as requested" });
    return sendJson(res, 404, { error: "not found" });
  }

  private page(req: IncomingMessage, res: ServerResponse, slug: string): void {
    const e = this.products.get(slug);
    if (!e) return sendJson(res, 404, { error: "no such product" });
    if (e.gone) return sendJson(res, e.gone, { error: "this product is no longer available" });
    const etag = `"${slug}-r${e.rev}"`;
    const lastModified = e.modified.toUTCString();
    const headers = { etag, "last-modified": lastModified, "cache-control": "max-age=60" };
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    if ((inm && inm === etag) || (!inm && ims && new Date(ims) >= e.modified)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    const d = e.doc;
    const images = d.images.map((i) => (/^https?:/.test(i) ? i : `/img/${i}`));
    let body: string;
    let type: string;
    if (d.format === "json") {
      type = "application/json";
      body = JSON.stringify({ title: d.title, description: d.description, price: d.price, currency: d.currency, language: d.language ?? "en", images });
    } else if (d.format === "json-ld") {
      type = "text/html; charset=utf-8";
      const ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        name: d.title,
        description: d.description,
        image: images,
        offers: { "@type": "Offer", price: d.price, priceCurrency: d.currency, availability: "https://schema.org/InStock" },
      };
      body = `<!doctype html><html lang="${d.language ?? "en"}"><head><title>${escape(d.title)}</title>
<script type="application/ld+json">${JSON.stringify(ld)}</script></head><body><h1>${escape(d.title)}</h1></body></html>`;
    } else {
      type = "text/html; charset=utf-8";
      body = `<!doctype html><html lang="${d.language ?? "en"}"><head>
<meta property="og:type" content="product">
<meta property="og:title" content="${escape(d.title)}">
<meta property="og:description" content="${escape(d.description)}">
${images.map((i) => `<meta property="og:image" content="${escape(i)}">`).join("\n")}
<meta property="product:price:amount" content="${escape(d.price)}">
<meta property="product:price:currency" content="${escape(d.currency)}">
</head><body></body></html>`;
    }
    res.writeHead(200, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
    res.end(req.method === "HEAD" ? undefined : body);
  }
}
