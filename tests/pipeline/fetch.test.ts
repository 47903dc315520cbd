/** The safe fetch helper against a real local server: redirects, size caps, timeouts, URL and address checks. */
import type { LookupAddress } from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertPublicHost, FetchError, isPrivateAddress, safeFetch, type FetchLimits, type LookupFunction } from "../../services/pipeline/http.js";
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
    for (const ip of [
      "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1",
      "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:a9fe:a9fe", "::", "::127.0.0.1", "fe80::1%eth0", "2002:7f00:1::1", "2001:db8::1", "ff02::1",
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ["8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(ip), ip).toBe(false);
  });
});

/** A resolver for made-up names (the test's DNS): each name answers with the given addresses. */
function fakeDns(table: Record<string, string[] | (() => string[])>): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const fn: LookupFunction = (hostname, options, callback) => {
    calls.push(hostname);
    const entry = table[hostname];
    const addrs = typeof entry === "function" ? entry() : entry;
    if (!addrs) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), "");
    const list: LookupAddress[] = addrs.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    if (options.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
  return Object.assign(fn, { calls });
}

describe("the private-address guard checks the address each connection is made to", () => {
  const port = () => Number(new URL(site.url).port);

  it("connections resolve names through the lookup hook (the injected resolver reaches the site)", async () => {
    const dns = fakeDns({ "shop.test": ["127.0.0.1"] });
    const res = await safeFetch(`http://shop.test:${port()}/p/p1`, { ...limits, lookup: dns });
    expect(res.status).toBe(200);
    expect(dns.calls).toContain("shop.test");
  });

  it.each([["127.0.0.1"], ["169.254.169.254"], ["10.0.0.7"], ["::1"], ["::ffff:127.0.0.1"], ["fd12::1"]])(
    "refuses a name that resolves to %s, before any request reaches a server",
    async (address) => {
      const before = site.requests.length;
      const dns = fakeDns({ "innocent.test": [address] });
      const err = await failure(safeFetch(`http://innocent.test:${port()}/p/p1`, { ...limits, blockPrivate: true, lookup: dns }));
      expect(err.kind).toBe("blocked");
      expect(err.transient).toBe(false);
      expect(err.message).toContain(address);
      expect(site.requests.length).toBe(before);
    },
  );

  it("refuses a name when any of its addresses is private (a public one beside it does not help)", async () => {
    const dns = fakeDns({ "mixed.test": ["93.184.215.14", "127.0.0.1"] });
    const err = await failure(safeFetch(`http://mixed.test:${port()}/p/p1`, { ...limits, blockPrivate: true, lookup: dns }));
    expect(err.kind).toBe("blocked");
  });

  it("DNS rebinding: a name that was public when the URL was submitted and resolves to loopback at connect time is refused", async () => {
    let answers = 0;
    const dns = fakeDns({ "rebind.test": () => (answers++ === 0 ? ["93.184.215.14"] : ["127.0.0.1"]) });
    const url = new URL(`http://rebind.test:${port()}/p/p1`);
    await assertPublicHost(url, { lookup: dns }); // the submission-time check sees the public address
    const before = site.requests.length;
    const err = await failure(safeFetch(url.toString(), { ...limits, blockPrivate: true, lookup: dns }));
    expect(err.kind).toBe("blocked");
    expect(site.requests.length).toBe(before);
  });

  it("checks every redirect hop: from an allowed host to a name or literal on a private address", async () => {
    // The stand-in's own address is allowed, so the first hop connects; each redirect leaves it.
    const dns = fakeDns({ "allowed.test": ["127.0.0.1"], "metadata.test": ["169.254.169.254"], "mapped.test": ["::ffff:127.0.0.2"] });
    const guarded = { ...limits, blockPrivate: true, lookup: dns, allowAddresses: ["127.0.0.1"] };
    const start = `http://allowed.test:${port()}`;
    expect((await safeFetch(`${start}/p/p1`, guarded)).status).toBe(200);
    for (const target of [
      "http://metadata.test/latest/meta-data/",
      `http://mapped.test:${port()}/p/p1`,
      `http://[::ffff:127.0.0.2]:${port()}/p/p1`,
      "http://10.0.0.1/",
      `http://localhost:${port()}/p/p1`,
    ]) {
      const before = site.requests.length;
      const err = await failure(safeFetch(`${start}/redirect-to?location=${encodeURIComponent(target)}`, guarded));
      expect(err.kind, target).toBe("blocked");
      expect(site.requests.length, target).toBe(before + 1); // the redirecting hop only
    }
  });

  it("names under localhost are refused by name, with or without the trailing dot", async () => {
    for (const host of ["localhost.", "api.localhost", "LOCALHOST"]) {
      const err = await failure(safeFetch(`http://${host}:${port()}/p/p1`, { ...limits, blockPrivate: true }));
      expect(err.kind, host).toBe("blocked");
    }
  });
});
