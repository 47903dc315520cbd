/**
 * Malformed requests against the real API (platform wiring, Postgres, RabbitMQ): each one gets
 * a 4xx with a problem+json body, none a 5xx, nothing is written, and the process keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, TOKEN, type PipelineHarness } from "../pipeline/harness.js";

let h: PipelineHarness;
const UNKNOWN = "0190f0e0-0000-7000-8000-000000000000";
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  detail?: RegExp;
}

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };

const cases: Case[] = [
  // ---- auth
  { name: "import without a token", method: "POST", path: "/v1/imports", body: { sourceUrl: "https://example.com/p" }, headers: { authorization: "" }, status: 401 },
  { name: "import with a wrong token", method: "POST", path: "/v1/imports", body: { sourceUrl: "https://example.com/p" }, headers: { authorization: "Bearer nope" }, status: 403 },
  { name: "review with a Basic header", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "approve", reviewer: "a" }, headers: { authorization: "Basic Zm9vOmJhcg==" }, status: 401 },
  // ---- POST /v1/imports bodies
  { name: "no body", method: "POST", path: "/v1/imports", headers: auth, status: 400 },
  { name: "malformed JSON", method: "POST", path: "/v1/imports", raw: '{"sourceUrl": ', headers: json, status: 400, detail: /malformed JSON/ },
  { name: "JSON null", method: "POST", path: "/v1/imports", raw: "null", headers: json, status: 400 },
  { name: "JSON array", method: "POST", path: "/v1/imports", raw: "[]", headers: json, status: 400 },
  { name: "text/plain body", method: "POST", path: "/v1/imports", raw: "https://example.com/p", headers: { ...auth, "content-type": "text/plain" }, status: 400 },
  { name: "empty object", method: "POST", path: "/v1/imports", body: {}, status: 400 },
  { name: "sourceUrl of the wrong type", method: "POST", path: "/v1/imports", body: { sourceUrl: 42 }, status: 400 },
  { name: "sourceUrls of the wrong type", method: "POST", path: "/v1/imports", body: { sourceUrls: "https://example.com/p" }, status: 400 },
  { name: "empty batch", method: "POST", path: "/v1/imports", body: { sourceUrls: [] }, status: 400 },
  { name: "batch over 100", method: "POST", path: "/v1/imports", body: { sourceUrls: Array.from({ length: 101 }, (_, i) => `https://example.com/p/${i}`) }, status: 400 },
  { name: "batch with one bad URL", method: "POST", path: "/v1/imports", body: { sourceUrls: ["https://example.com/a", "nope"] }, status: 400 },
  { name: "unknown field", method: "POST", path: "/v1/imports", body: { sourceUrl: "https://example.com/p", priority: 1 }, status: 400 },
  { name: "both sourceUrl and sourceUrls", method: "POST", path: "/v1/imports", body: { sourceUrl: "https://example.com/p", sourceUrls: ["https://example.com/q"] }, status: 400 },
  { name: "file:// URL", method: "POST", path: "/v1/imports", body: { sourceUrl: "file:///etc/passwd" }, status: 400 },
  { name: "javascript: URL", method: "POST", path: "/v1/imports", body: { sourceUrl: "javascript:alert(1)" }, status: 400 },
  { name: "ftp URL", method: "POST", path: "/v1/imports", body: { sourceUrl: "ftp://example.com/p" }, status: 400 },
  { name: "relative URL", method: "POST", path: "/v1/imports", body: { sourceUrl: "/p/1" }, status: 400 },
  { name: "URL with credentials", method: "POST", path: "/v1/imports", body: { sourceUrl: "https://user:pw@example.com/p" }, status: 400, detail: /credentials/ },
  { name: "URL of 3000 characters", method: "POST", path: "/v1/imports", body: { sourceUrl: `https://example.com/${"a".repeat(3000)}` }, status: 400 },
  { name: "loopback address (blocked)", method: "POST", path: "/v1/imports", body: { sourceUrl: "http://127.0.0.1:8080/admin" }, status: 400, detail: /private/ },
  { name: "localhost (blocked)", method: "POST", path: "/v1/imports", body: { sourceUrl: "http://localhost/p" }, status: 400, detail: /private/ },
  { name: "cloud metadata address (blocked)", method: "POST", path: "/v1/imports", body: { sourceUrl: "http://169.254.169.254/latest/meta-data/" }, status: 400, detail: /private/ },
  { name: "private network (blocked)", method: "POST", path: "/v1/imports", body: { sourceUrl: "http://10.0.0.5/p" }, status: 400, detail: /private/ },
  { name: "IPv6 loopback (blocked)", method: "POST", path: "/v1/imports", body: { sourceUrl: "http://[::1]/p" }, status: 400, detail: /private/ },
  { name: "huge body", method: "POST", path: "/v1/imports", raw: JSON.stringify({ sourceUrl: `https://example.com/${"a".repeat(300 * 1024)}` }), headers: json, status: 413 },
  // ---- GET /v1/imports/:id
  { name: "import id not a UUID", method: "GET", path: "/v1/imports/123", status: 400 },
  { name: "unknown import", method: "GET", path: `/v1/imports/${UNKNOWN}`, status: 404 },
  // ---- GET /v1/products
  { name: "unknown status", method: "GET", path: "/v1/products?status=shipped", status: 400 },
  { name: "one unknown status in a list", method: "GET", path: "/v1/products?status=in_review,bogus", status: 400 },
  { name: "empty status", method: "GET", path: "/v1/products?status=", status: 400 },
  { name: "status given twice", method: "GET", path: "/v1/products?status=in_review&status=pushed", status: 400 },
  { name: "limit 0", method: "GET", path: "/v1/products?limit=0", status: 400 },
  { name: "limit too large", method: "GET", path: "/v1/products?limit=100000", status: 400 },
  { name: "limit not a number", method: "GET", path: "/v1/products?limit=ten", status: 400 },
  { name: "cursor garbage", method: "GET", path: "/v1/products?cursor=%%%garbage", status: 400, detail: /cursor/ },
  { name: "cursor of valid base64 but wrong shape", method: "GET", path: `/v1/products?cursor=${b64({ after: "x" })}`, status: 400, detail: /cursor/ },
  { name: "cursor of valid base64, not JSON", method: "GET", path: `/v1/products?cursor=${b64("hello")}`, status: 400, detail: /cursor/ },
  { name: "unknown query parameter", method: "GET", path: "/v1/products?sort=desc", status: 400 },
  // ---- GET /v1/products/:id
  { name: "product id not a UUID", method: "GET", path: "/v1/products/42", status: 400 },
  { name: "product id with SQL", method: "GET", path: "/v1/products/1'%20OR%20'1'='1", status: 400 },
  { name: "unknown product", method: "GET", path: `/v1/products/${UNKNOWN}`, status: 404 },
  // ---- POST /v1/products/:id/review
  { name: "review: unknown decision", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "maybe", reviewer: "alice" }, status: 400 },
  { name: "review: missing reviewer", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "approve" }, status: 400 },
  { name: "review: reviewer with spaces", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "approve", reviewer: "alice smith" }, status: 400 },
  { name: "review: reviewer too long", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "approve", reviewer: "a".repeat(65) }, status: 400 },
  { name: "review: notes not a string", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "reject", reviewer: "a", notes: 5 }, status: 400 },
  { name: "review: negative version", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "reject", reviewer: "a", version: -1 }, status: 400 },
  { name: "review: version as a string", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "reject", reviewer: "a", version: "3" }, status: 400 },
  { name: "review: bad id", method: "POST", path: "/v1/products/abc/review", body: { decision: "approve", reviewer: "a" }, status: 400 },
  { name: "review: unknown product", method: "POST", path: `/v1/products/${UNKNOWN}/review`, body: { decision: "approve", reviewer: "a" }, status: 404 },
  // ---- POST /v1/products/:id/push
  { name: "push: bad id", method: "POST", path: "/v1/products/abc/push", status: 400 },
  { name: "push: unknown product", method: "POST", path: `/v1/products/${UNKNOWN}/push`, status: 404 },
  { name: "push: unexpected body", method: "POST", path: `/v1/products/${UNKNOWN}/push`, body: { force: true }, status: 400 },
  // ---- POST /v1/source-checks
  { name: "source checks: empty object", method: "POST", path: "/v1/source-checks", body: {}, status: 400 },
  { name: "source checks: all false", method: "POST", path: "/v1/source-checks", body: { all: false }, status: 400 },
  { name: "source checks: ids not UUIDs", method: "POST", path: "/v1/source-checks", body: { productIds: ["x"] }, status: 400 },
  { name: "source checks: empty ids", method: "POST", path: "/v1/source-checks", body: { productIds: [] }, status: 400 },
  { name: "source checks: both", method: "POST", path: "/v1/source-checks", body: { all: true, productIds: [UNKNOWN] }, status: 400 },
  { name: "source checks: unknown product", method: "POST", path: "/v1/source-checks", body: { productIds: [UNKNOWN] }, status: 404 },
  // ---- routing
  { name: "unknown route", method: "GET", path: "/v1/nope", status: 404 },
  { name: "wrong method", method: "DELETE", path: `/v1/products/${UNKNOWN}`, status: 404 },
];

beforeAll(async () => {
  h = await startHarness({ BLOCK_PRIVATE_SOURCES: "true", BODY_LIMIT: "256kb" });
});
afterAll(async () => {
  await h?.close();
});

describe("malformed requests", () => {
  it.each(cases)("$name -> $status", async (c) => {
    const path = typeof c.path === "function" ? c.path() : c.path;
    const headers: Record<string, string> = c.headers ?? (c.body !== undefined ? json : auth);
    const res = await fetch(h.baseUrl + path, {
      method: c.method,
      headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== "")),
      body: c.raw ?? (c.body !== undefined ? JSON.stringify(c.body) : undefined),
    });
    const text = await res.text();
    expect(res.status, text).toBe(c.status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(text) as { type: string; title: string; status: number; detail?: string };
    expect(problem.status).toBe(c.status);
    expect(problem.type).toMatch(/^https:\/\//);
    expect(problem.title).toBeTruthy();
    if (c.detail) expect(problem.detail).toMatch(c.detail);
  });

  it("wrote nothing, and the process still serves", async () => {
    expect(await h.db.prisma.import.count()).toBe(0);
    expect(await h.db.prisma.job.count()).toBe(0);
    expect((await h.api("GET", "/healthz")).status).toBe(200);
    expect((await h.api("GET", "/readyz")).body).toMatchObject({ status: "ready" });
    expect((await h.api("GET", "/v1/products")).status).toBe(200);
    const metrics = await h.scrape();
    expect(metrics).not.toMatch(/http_requests_total\{[^}]*status_code="5\d\d"/);
    // labelled by route template, never by raw path
    expect(metrics).toContain('route="/v1/products/:id"');
    expect(metrics).not.toContain(UNKNOWN);
  });
});
