/** The safe fetch helper against a real local server: redirects, size caps, timeouts, URL and address checks. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FetchError, isPrivateAddress, safeFetch, type FetchLimits } from "../../services/pipeline/http.js";
import { SourceSite } from "./standins/index.js";

let site: SourceSite;
const limits: FetchLimits = { timeoutMs: 1000, maxBytes: 256 * 1024, maxRedirects: 3, blockPrivate: false };
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof FetchError) return err;
    throw err;
  }
  throw new Error("expected a FetchError");
};

beforeAll(async () => {
  site = await SourceSite.start();
  site.setProduct("p1", { title: "T", description: "", price: "1", currency: "EUR", images: [], format: "json" });
});
afterAll(async () => {
  await site?.close();
});

describe("safeFetch", () => {
  it("follows up to maxRedirects redirects and reports the final URL", async () => {
    const res = await safeFetch(`${site.url}/redirect/3/p1`, limits);
    expect(res.status).toBe(200);
    expect(res.redirects).toBe(3);
    expect(res.url).toBe(`${site.url}/p/p1`);
    expect(res.json<{ title: string }>().title).toBe("T");
  });

  it("refuses a fourth redirect", async () => {
    const err = await failure(safeFetch(`${site.url}/redirect/4/p1`, limits));
    expect(err.kind).toBe("too_many_redirects");
    expect(err.transient).toBe(false);
  });

  it("caps a body without content-length while streaming", async () => {
    const err = await failure(safeFetch(`${site.url}/huge/50`, limits));
    expect(err.kind).toBe("too_large");
    expect(err.message).toContain("262144");
  });

  it("refuses a declared content-length over the cap before reading", async () => {
    const err = await failure(safeFetch(`${site.url}/img/red.jpg`, { ...limits, maxBytes: 100 }));
    expect(err.kind).toBe("too_large");
    expect(err.message).toMatch(/over the 100-byte limit/);
  });

  it("times out a slow response (transient)", async () => {
    const started = Date.now();
    const err = await failure(safeFetch(`${site.url}/slow/3000`, { ...limits, timeoutMs: 200 }));
    expect(err.kind).toBe("timeout");
    expect(err.transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("turns a refused connection into a transient network error", async () => {
    const err = await failure(safeFetch("http://127.0.0.1:1/", limits));
    expect(err.kind).toBe("network");
    expect(err.transient).toBe(true);
  });

  it.each(["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "not a url", "http://user:pw@example.com/"])("refuses %s", async (url) => {
    const err = await failure(safeFetch(url, limits));
    expect(err.kind).toBe("bad_url");
  });

  it("blocks private and loopback hosts when asked, also behind a redirect", async () => {
    const blocking = { ...limits, blockPrivate: true };
    for (const url of [`${site.url}/p/p1`, "http://localhost:1/", "http://[::1]:1/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"]) {
      const err = await failure(safeFetch(url, blocking));
      expect(err.kind, url).toBe("blocked");
    }
  });

  it("classifies addresses", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});
