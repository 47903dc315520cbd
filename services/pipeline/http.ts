/**
 * A small, safe HTTP client for talking to sources and services we do not control: a total
 * timeout (AbortSignal), a streaming size cap, manual redirect following with a limit, only
 * http(s), and optional refusal of private/loopback addresses (SSRF guard).
 *
 * The private-address guard checks the address each connection is actually made to: the
 * undici agent's `lookup` hook resolves the name at connect time and refuses the connection
 * when any resolved address is private, so a name that resolves (or re-resolves, DNS
 * rebinding) to 127.0.0.1, 169.254.169.254, a private range or an IPv4-mapped IPv6 form of
 * those never gets a TCP connection. IP literals skip name resolution and are checked before
 * the request. Both happen on every redirect hop.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP } from "node:net";
import { Agent, fetch, type Dispatcher, type Response } from "undici";

export type FetchErrorKind = "bad_url" | "blocked" | "timeout" | "too_large" | "too_many_redirects" | "network";

export class FetchError extends Error {
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = "FetchError";
  }
  /** Worth retrying later: the remote side may recover. */
  get transient(): boolean {
    return this.kind === "timeout" || this.kind === "network";
  }
}

/** Name resolution as node:net calls it (dns.lookup's callback form). */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly blockPrivate: boolean;
  /** How connections resolve host names (dns.lookup unless given; tests inject one). */
  readonly lookup?: LookupFunction;
  /** Addresses the private-address guard lets through (tests: the stand-ins' loopback address). */
  readonly allowAddresses?: readonly string[];
}

export interface SafeRequest {
  readonly method?: "GET" | "HEAD" | "POST" | "PUT";
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Cancels the request from outside (job shutdown/timeout). */
  readonly signal?: AbortSignal;
}

export interface SafeResponse {
  readonly status: number;
  readonly headers: Response["headers"];
  readonly body: Buffer;
  /** The URL after redirects. */
  readonly url: string;
  readonly redirects: number;
  readonly elapsedMs: number;
  text(): string;
  json<T = unknown>(): T;
}

/** Parses and checks a URL a user may submit: absolute http(s), no credentials. */
export function checkUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FetchError("bad_url", `not an absolute URL: ${raw.slice(0, 200)}`, raw);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new FetchError("bad_url", `only http and https URLs are allowed, not ${u.protocol}`, raw);
  if (u.username || u.password) throw new FetchError("bad_url", "URLs with credentials are not allowed", raw);
  return u;
}

/**
 * Addresses that are not on the public internet (IANA special-purpose registries): loopback,
 * private, shared, link-local (cloud metadata), documentation, benchmarking, multicast and
 * reserved ranges. node's BlockList also matches the IPv4-mapped IPv6 forms of the IPv4 ranges
 * (::ffff:127.0.0.1 and ::ffff:7f00:1).
 */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24],
  ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) NOT_PUBLIC.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible forms; 6to4 and Teredo embed IPv4 addresses.
  ["::", 96], ["64:ff9b:1::", 48], ["100::", 64], ["2001::", 32], ["2001:db8::", 32], ["2002::", 16],
  ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8],
] as const) NOT_PUBLIC.addSubnet(net, prefix, "ipv6");

export function isPrivateAddress(ip: string): boolean {
  const addr = ip.replace(/%.*$/, ""); // an IPv6 zone id (fe80::1%eth0)
  const v = isIP(addr);
  if (v === 0) return false;
  return NOT_PUBLIC.check(addr, v === 4 ? "ipv4" : "ipv6");
}

const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/** The private-address rule for one resolved or literal address. */
function refused(address: string, allow: readonly string[] | undefined): boolean {
  return isPrivateAddress(address) && !(allow ?? []).includes(address);
}

/**
 * Throws `blocked` when the host is, or resolves to, a private address: the early check of a
 * URL someone submits (an import request). The connection itself is guarded by safeFetch.
 */
export async function assertPublicHost(u: URL, opts: Pick<FetchLimits, "lookup" | "allowAddresses"> = {}): Promise<void> {
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (isLocalhostName(host)) throw new FetchError("blocked", `refusing private host ${host}`, u.toString());
  const addrs = isIP(host) ? [host] : await resolveAll(host, opts.lookup ?? dnsLookup).catch(() => []);
  if (addrs.length === 0) throw new FetchError("network", `cannot resolve ${host}`, u.toString());
  const bad = addrs.find((a) => refused(a, opts.allowAddresses));
  if (bad) throw new FetchError("blocked", `refusing ${host}: it resolves to the private address ${bad}`, u.toString());
}

function resolveAll(host: string, lookup: LookupFunction): Promise<string[]> {
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve((addresses as LookupAddress[]).map((a) => a.address)))),
  );
}

/** A lookup that refuses the connection when any address the name resolves to is private. */
function guardedLookup(lookup: LookupFunction, allow: readonly string[] | undefined): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, result) => {
      if (err) return callback(err, "");
      const addresses = result as LookupAddress[];
      const bad = addresses.find((a) => refused(a.address, allow));
      if (bad) return callback(new FetchError("blocked", `refusing ${hostname}: it resolves to the private address ${bad.address}`, hostname) as NodeJS.ErrnoException, "");
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`cannot resolve ${hostname}`), { code: "ENOTFOUND" }), "");
      callback(null, first.address, first.family);
    });
  };
}

/** One agent per resolution policy (lookup function, guard, allow list), shared by every request. */
const agents = new WeakMap<LookupFunction, Map<string, Agent>>();

function dispatcherFor(limits: FetchLimits): Dispatcher | undefined {
  if (!limits.blockPrivate && !limits.lookup) return undefined; // undici's global agent
  const base = limits.lookup ?? (dnsLookup as unknown as LookupFunction);
  const key = limits.blockPrivate ? `guard:${(limits.allowAddresses ?? []).join(",")}` : "plain";
  let byKey = agents.get(base);
  if (!byKey) agents.set(base, (byKey = new Map()));
  let agent = byKey.get(key);
  if (!agent) {
    const lookup = limits.blockPrivate ? guardedLookup(base, limits.allowAddresses) : base;
    agent = new Agent({ connect: { lookup } });
    byKey.set(key, agent);
  }
  return agent;
}

export async function safeFetch(rawUrl: string, limits: FetchLimits, req: SafeRequest = {}): Promise<SafeResponse> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const dispatcher = dispatcherFor(limits);
  let url = checkUrl(rawUrl);
  let method = req.method ?? "GET";
  let body = req.body;
  for (let redirects = 0; ; redirects++) {
    if (limits.blockPrivate) {
      // Names are checked when the connection resolves them (the agent's lookup); literals here.
      const host = url.hostname.replace(/^\[|\]$/g, "");
      if (isLocalhostName(host) || (isIP(host) && refused(host, limits.allowAddresses))) {
        throw new FetchError("blocked", `refusing private host ${host}`, url.toString());
      }
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers: req.headers, body, redirect: "manual", signal, dispatcher });
    } catch (err) {
      throw wrapError(err, url.toString(), timeout, limits.timeoutMs);
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
      await res.body?.cancel().catch(() => undefined);
      if (redirects >= limits.maxRedirects) throw new FetchError("too_many_redirects", `more than ${limits.maxRedirects} redirects`, rawUrl);
      url = checkUrl(new URL(location, url).toString());
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    const buf = await readCapped(res, limits.maxBytes, url.toString(), timeout, limits.timeoutMs);
    const finalUrl = url.toString();
    return {
      status: res.status,
      headers: res.headers,
      body: buf,
      url: finalUrl,
      redirects,
      elapsedMs: performance.now() - started,
      text: () => buf.toString("utf8"),
      json: <T>() => JSON.parse(buf.toString("utf8")) as T,
    };
  }
}

async function readCapped(res: Response, maxBytes: number, url: string, timeout: AbortSignal, timeoutMs: number): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new FetchError("too_large", `response is ${declared} bytes, over the ${maxBytes}-byte limit`, url);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new FetchError("too_large", `response exceeds the ${maxBytes}-byte limit`, url);
      }
      chunks.push(Buffer.from(value));
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw wrapError(err, url, timeout, timeoutMs);
  }
  return Buffer.concat(chunks, total);
}

function wrapError(err: unknown, url: string, timeout: AbortSignal, timeoutMs: number): Error {
  if (err instanceof FetchError) return err;
  // The connect-time guard refused the address: undici reports it as the cause of "fetch failed".
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof FetchError) return new FetchError(cause.kind, cause.message, url);
  if (timeout.aborted) return new FetchError("timeout", `no complete response within ${timeoutMs} ms`, url);
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "AbortError") return e; // cancelled by the caller (shutdown); let it propagate as is
  return new FetchError("network", `${e.message}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${e.cause.message})` : ""}`, url);
}

/** 408, 429 and 5xx are worth retrying; other statuses are answers. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
