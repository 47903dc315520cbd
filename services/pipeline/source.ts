/**
 * Turns a supplier's page into a product document. Accepted: a JSON product document, an HTML
 * page with schema.org Product JSON-LD, or an HTML page with Open Graph product tags.
 */
export interface SourceProduct {
  readonly title: string;
  readonly description: string;
  readonly price: string | null;
  readonly currency: string | null;
  readonly language: string;
  /** Absolute image URLs, in order. */
  readonly images: readonly string[];
  readonly format: "json" | "json-ld" | "open-graph";
}

export class SourceParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceParseError";
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : typeof v === "number" ? String(v) : undefined);
const MAX_IMAGES = 20;

export function parseSource(body: string, contentType: string, pageUrl: string): SourceProduct {
  const ct = contentType.toLowerCase();
  const trimmed = body.trimStart();
  if (ct.includes("json") || (!ct.includes("html") && (trimmed.startsWith("{") || trimmed.startsWith("[")))) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (err) {
      throw new SourceParseError(`the source returned invalid JSON: ${(err as Error).message}`);
    }
    const ld = findLdProduct(doc);
    if (ld) return fromLd(ld, pageUrl, "json-ld");
    if (!isObj(doc)) throw new SourceParseError("the JSON document is not an object");
    return fromJson(doc, pageUrl);
  }
  if (ct.includes("html") || trimmed.startsWith("<")) return fromHtml(body, pageUrl);
  throw new SourceParseError(`unsupported content type ${contentType || "(none)"}: expected JSON or HTML`);
}

function fromJson(doc: Obj, pageUrl: string): SourceProduct {
  const title = str(doc.title) ?? str(doc.name);
  if (!title) throw new SourceParseError("the JSON document has no title or name");
  const imgs = Array.isArray(doc.images) ? doc.images : doc.image !== undefined ? [doc.image] : [];
  return {
    title,
    description: str(doc.description) ?? "",
    price: normPrice(doc.price),
    currency: normCurrency(doc.currency),
    language: normLang(doc.language ?? doc.lang),
    images: absolute(imgs.map((i) => (isObj(i) ? str(i.url) : str(i))), pageUrl),
    format: "json",
  };
}

function fromLd(p: Obj, pageUrl: string, format: "json-ld"): SourceProduct {
  const title = str(p.name);
  if (!title) throw new SourceParseError("the schema.org Product has no name");
  const offersRaw = Array.isArray(p.offers) ? p.offers[0] : p.offers;
  const offers = isObj(offersRaw) ? offersRaw : {};
  const imgRaw = Array.isArray(p.image) ? p.image : p.image !== undefined ? [p.image] : [];
  return {
    title,
    description: str(p.description) ?? "",
    price: normPrice(offers.price ?? offers.lowPrice),
    currency: normCurrency(offers.priceCurrency),
    language: normLang(p.inLanguage),
    images: absolute(imgRaw.map((i) => (isObj(i) ? (str(i.contentUrl) ?? str(i.url)) : str(i))), pageUrl),
    format,
  };
}

function findLdProduct(doc: unknown): Obj | undefined {
  if (Array.isArray(doc)) {
    for (const d of doc) {
      const f = findLdProduct(d);
      if (f) return f;
    }
    return undefined;
  }
  if (!isObj(doc)) return undefined;
  const t = doc["@type"];
  if (t === "Product" || (Array.isArray(t) && t.includes("Product"))) return doc;
  if (Array.isArray(doc["@graph"])) return findLdProduct(doc["@graph"]);
  return undefined;
}

function fromHtml(html: string, pageUrl: string): SourceProduct {
  const scripts = html.matchAll(/<script\b[^>]*type\s*=\s*["']?application\/ld\+json["']?[^>]*>([\s\S]*?)<\/script>/gi);
  for (const m of scripts) {
    try {
      const p = findLdProduct(JSON.parse(m[1]!));
      if (p) return fromLd(p, pageUrl, "json-ld");
    } catch {
      // a broken JSON-LD block is ignored; Open Graph may still describe the product
    }
  }
  const og = new Map<string, string[]>();
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = m[0];
    const key = attr(tag, "property") ?? attr(tag, "name");
    const content = attr(tag, "content");
    if (!key || content === undefined) continue;
    const k = key.toLowerCase();
    og.set(k, [...(og.get(k) ?? []), content]);
  }
  const first = (k: string) => og.get(k)?.[0];
  const title = first("og:title");
  if (!title) throw new SourceParseError("the HTML page has neither schema.org Product JSON-LD nor an og:title");
  const lang = /<html\b[^>]*\blang\s*=\s*["']?([A-Za-z-]+)/i.exec(html)?.[1] ?? first("og:locale");
  return {
    title,
    description: first("og:description") ?? first("description") ?? "",
    price: normPrice(first("product:price:amount") ?? first("og:price:amount")),
    currency: normCurrency(first("product:price:currency") ?? first("og:price:currency")),
    language: normLang(lang),
    images: absolute([...(og.get("og:image") ?? []), ...(og.get("og:image:url") ?? [])], pageUrl),
    format: "open-graph",
  };
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? "");
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_, e: string) => {
    const l = e.toLowerCase();
    if (l.startsWith("#x")) return String.fromCodePoint(parseInt(l.slice(2), 16));
    if (l.startsWith("#")) return String.fromCodePoint(Number(l.slice(1)));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[l] ?? "";
  });
}

function normPrice(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const n = Number(s.replace(/,/g, "."));
  return Number.isFinite(n) && n >= 0 && n < 1e10 ? n.toFixed(2) : null;
}
function normCurrency(v: unknown): string | null {
  const s = str(v)?.toUpperCase();
  return s && /^[A-Z]{3}$/.test(s) ? s : null;
}
function normLang(v: unknown): string {
  const s = str(v)?.toLowerCase().split(/[-_]/)[0];
  return s && /^[a-z]{2,3}$/.test(s) ? s : "en";
}
function absolute(urls: readonly (string | undefined)[], base: string): string[] {
  const out: string[] = [];
  for (const u of urls) {
    if (!u) continue;
    try {
      const abs = new URL(u, base);
      if ((abs.protocol === "http:" || abs.protocol === "https:") && !out.includes(abs.toString())) out.push(abs.toString());
    } catch {
      // unparseable image URL: skip it
    }
  }
  return out.slice(0, MAX_IMAGES);
}
