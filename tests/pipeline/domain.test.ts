/** Unit tests of the domain pieces: the state machine, source parsing, image processing, ids. */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../services/pipeline/errors.js";
import { nameUuid, uuidv7, UUID_RE } from "../../services/pipeline/ids.js";
import { InvalidImageError, processImage } from "../../services/pipeline/images.js";
import { parseSource, SourceParseError } from "../../services/pipeline/source.js";
import { assertTransition, canTransition, PRODUCT_STATUSES, RESUME_STATUS, TRANSITIONS } from "../../services/pipeline/status.js";

describe("state machine", () => {
  it("allows the pipeline path and nothing that skips review", () => {
    const path = ["imported", "translating", "processing_images", "in_review", "approved", "pushed"] as const;
    for (let i = 0; i + 1 < path.length; i++) expect(canTransition(path[i]!, path[i + 1]!)).toBe(true);
    expect(canTransition("in_review", "rejected")).toBe(true);
    for (const [from, to] of [
      ["imported", "approved"],
      ["translating", "pushed"],
      ["in_review", "pushed"],
      ["rejected", "approved"],
      ["rejected", "pushed"],
      ["pushed", "approved"],
      ["approved", "rejected"],
      ["source_gone", "in_review"],
    ] as const) {
      expect(canTransition(from, to), `${from}->${to}`).toBe(false);
    }
  });
  it("a failed product goes back only into the stage of a retried dead job, or is re-imported or gone", () => {
    expect(TRANSITIONS.failed).toEqual(["translating", "processing_images", "approved", "source_gone"]);
    expect(RESUME_STATUS).toEqual({ translation: "translating", image: "processing_images", push: "approved" });
    for (const to of ["imported", "in_review", "rejected", "pushed"] as const) expect(canTransition("failed", to), `failed->${to}`).toBe(false);
  });
  it("no status transitions to itself, every target is a status", () => {
    for (const s of PRODUCT_STATUSES) {
      expect(TRANSITIONS[s]).not.toContain(s);
      for (const t of TRANSITIONS[s]) expect(PRODUCT_STATUSES).toContain(t);
    }
  });
  it("an illegal transition is a DomainError naming both ends", () => {
    expect(() => assertTransition("rejected", "pushed")).toThrow(DomainError);
    try {
      assertTransition("rejected", "pushed");
    } catch (err) {
      expect((err as DomainError).code).toBe("illegal_transition");
      expect((err as DomainError).details).toMatchObject({ from: "rejected", to: "pushed" });
    }
  });
});

describe("parseSource", () => {
  const page = "https://shop.example.com/p/1";
  it("reads a JSON document", () => {
    const p = parseSource(JSON.stringify({ name: "Kettle", description: "Hot", price: "12,5", currency: "eur", images: ["/a.jpg", "https://cdn.example/b.png", "javascript:alert(1)"], language: "de-DE" }), "application/json", page);
    expect(p).toEqual({ title: "Kettle", description: "Hot", price: "12.50", currency: "EUR", language: "de", images: ["https://shop.example.com/a.jpg", "https://cdn.example/b.png"], format: "json" });
  });
  it("reads schema.org Product JSON-LD inside @graph, ignoring broken blocks", () => {
    const html = `<html><head><script type="application/ld+json">{broken</script>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":["Product"],"name":"Lamp","image":{"@type":"ImageObject","contentUrl":"img/l.jpg"},"offers":[{"price":99,"priceCurrency":"USD"}]}]}</script></head></html>`;
    const p = parseSource(html, "text/html", page);
    expect(p).toMatchObject({ title: "Lamp", price: "99.00", currency: "USD", images: ["https://shop.example.com/p/img/l.jpg"], format: "json-ld" });
  });
  it("falls back to Open Graph tags with entities decoded", () => {
    const html = `<html lang="fr"><head><meta property="og:title" content="Caf&#233; &amp; Tea &#39;Set&#39;"><meta content="Nice" property="og:description">
<meta property="og:image" content="/x.jpg"><meta property="og:image" content="/y.jpg"><meta property="product:price:amount" content="5"></head></html>`;
    const p = parseSource(html, "text/html; charset=utf-8", page);
    expect(p).toMatchObject({ title: "Café & Tea 'Set'", description: "Nice", price: "5.00", language: "fr", format: "open-graph" });
    expect(p.images).toEqual(["https://shop.example.com/x.jpg", "https://shop.example.com/y.jpg"]);
  });
  it.each([
    ["{", "application/json", /invalid JSON/],
    ["[1,2]", "application/json", /not an object/],
    ['{"price": 3}', "application/json", /no title/],
    ["<html><head><title>x</title></head></html>", "text/html", /neither schema.org Product JSON-LD nor an og:title/],
    ["GIF89a", "image/gif", /unsupported content type/],
  ])("rejects %s (%s)", (body, ct, msg) => {
    expect(() => parseSource(body, ct, page)).toThrow(SourceParseError);
    expect(() => parseSource(body, ct, page)).toThrow(msg);
  });
});

describe("processImage", () => {
  it("produces variants, a WebP, dimensions and a checksum", async () => {
    const input = await sharp({ create: { width: 1000, height: 500, channels: 3, background: "#123456" } }).png().toBuffer();
    const img = await processImage(input);
    expect(img).toMatchObject({ width: 1000, height: 500, format: "png", bytes: input.length });
    expect(img.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(img.outputs.map((o) => [o.name, o.width, o.height, o.format])).toEqual([
      ["thumb", 200, 100, "jpeg"],
      ["medium", 800, 400, "jpeg"],
      ["webp", 1000, 500, "webp"],
    ]);
    expect((await sharp(img.outputs[2]!.body).metadata()).format).toBe("webp");
  });
  it("does not enlarge small images", async () => {
    const input = await sharp({ create: { width: 120, height: 80, channels: 3, background: "#fff" } }).jpeg().toBuffer();
    const img = await processImage(input);
    expect(img.outputs.map((o) => o.width)).toEqual([120, 120, 120]);
  });
  it("rejects truncated and fake images", async () => {
    const good = await sharp({ create: { width: 400, height: 400, channels: 3, background: "#f00" } }).jpeg().toBuffer();
    await expect(processImage(Buffer.concat([good.subarray(0, 20), Buffer.alloc(2000, 0x5a)]))).rejects.toThrow(InvalidImageError);
    await expect(processImage(Buffer.from("<svg but not really"))).rejects.toThrow(InvalidImageError);
  });
});

describe("ids", () => {
  it("uuidv7 sorts by creation time; nameUuid is stable", () => {
    const a = uuidv7(1_000);
    const b = uuidv7(2_000);
    expect(a < b).toBe(true);
    expect(a).toMatch(UUID_RE);
    expect(nameUuid("x")).toBe(nameUuid("x"));
    expect(nameUuid("x")).not.toBe(nameUuid("y"));
    expect(nameUuid("x")).toMatch(UUID_RE);
  });

  it("uuidv7 carries its millisecond time, version 7 and the RFC variant, and stays unique across refills of its random pool", () => {
    const at = 0x0123456789ab;
    const ids = Array.from({ length: 5000 }, () => uuidv7(at));
    for (const id of ids) {
      expect(id).toMatch(UUID_RE);
      expect(id.slice(0, 13)).toBe("01234567-89ab");
      expect(id[14]).toBe("7");
      expect("89ab").toContain(id[19]);
    }
    // 5,000 ids take 50,000 random bytes: the 4 KiB pool is refilled a dozen times.
    expect(new Set(ids).size).toBe(ids.length);
    expect(parseInt(uuidv7(Date.UTC(2026, 11, 4)).replace(/-/g, "").slice(0, 12), 16)).toBe(Date.UTC(2026, 11, 4));
  });
});
