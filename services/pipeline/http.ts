/**
 * A small, safe HTTP client for talking to sources and services we do not control: a total
 * timeout (AbortSignal), a streaming size cap, manual redirect following with a limit, only
 * http(s), and optional refusal of private/loopback addresses (SSRF guard).
 *
 * Known limit of the private-address guard: it checks the addresses DNS returns before the
 * request, so a DNS-rebinding attacker can still win the race; production should also egress
 * through a proxy that enforces the same rule.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

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

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
  readonly blockPrivate: boolean;
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
  readonly headers: Headers;
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

export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return (
      a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224
    );
  }
  if (v === 6) {
    const x = ip.toLowerCase();
    if (x === "::" || x === "::1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(x);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return x.startsWith("fc") || x.startsWith("fd") || x.startsWith("fe8") || x.startsWith("fe9") || x.startsWith("fea") || x.startsWith("feb") || x.startsWith("ff");
  }
  return false;
}

/** Throws `blocked` when the host is, or resolves to, a private address. */
export async function assertPublicHost(u: URL): Promise<void> {
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) throw new FetchError("blocked", `refusing private host ${host}`, u.toString());
  const addrs = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addrs.length === 0) throw new FetchError("network", `cannot resolve ${host}`, u.toString());
  const bad = addrs.find(isPrivateAddress);
  if (bad) throw new FetchError("blocked", `refusing ${host}: it resolves to the private address ${bad}`, u.toString());
}

export async function safeFetch(rawUrl: string, limits: FetchLimits, req: SafeRequest = {}): Promise<SafeResponse> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  let url = checkUrl(rawUrl);
  let method = req.method ?? "GET";
  let body = req.body;
  for (let redirects = 0; ; redirects++) {
    if (limits.blockPrivate) await assertPublicHost(url);
    let res: Response;
    try {
      res = await fetch(url, { method, headers: req.headers, body, redirect: "manual", signal });
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
  if (timeout.aborted) return new FetchError("timeout", `no complete response within ${timeoutMs} ms`, url);
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "AbortError") return e; // cancelled by the caller (shutdown); let it propagate as is
  return new FetchError("network", `${e.message}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${e.cause.message})` : ""}`, url);
}

/** 408, 429 and 5xx are worth retrying; other statuses are answers. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
