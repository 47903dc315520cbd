/**
 * What the delivery checks (smoke, the deployed end-to-end run, the alert check) share: flags
 * parsed strictly with a usage error naming the flag, a time budget every request draws from,
 * HTTP requests that never hang past it, one line per check, and one way to end (exit 0 when every
 * check passed, 1 when one failed, 2 on bad usage).
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(options: O, args = process.argv.slice(2)) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A URL flag without its trailing slash; a usage error names the flag when it is not http(s). */
export function urlFlag(name: string, value: string | undefined, required: true): string;
export function urlFlag(name: string, value: string | undefined, required?: false): string | undefined;
export function urlFlag(name: string, value: string | undefined, required = false): string | undefined {
  if (value === undefined || value === "") {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`--${name}: "${value}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`--${name}: "${value}" is not an http(s) URL`);
  return value.replace(/\/+$/, "");
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

/** "90s", "2m", "500ms" in milliseconds. */
export function durationFlag(name: string, value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new UsageError(`--${name}: "${value}" is not a duration (e.g. 500ms, 60s, 5m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"];
}

/** The bearer token: the first token of the file's first non-empty line (API_TOKENS is comma-separated), or $SMOKE_TOKEN. */
export function readToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--token-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const token = text.split("\n").map((l) => l.trim()).find((l) => l !== "")?.split(",")[0]?.trim();
    if (!token) throw new UsageError(`--token-file: ${file} holds no token`);
    return token;
  }
  return env["SMOKE_TOKEN"] || undefined;
}

export class Budget {
  private readonly start = performance.now();
  constructor(readonly totalMs: number) {}
  get elapsedMs(): number {
    return performance.now() - this.start;
  }
  get remainingMs(): number {
    return Math.max(0, this.totalMs - this.elapsedMs);
  }
  get exhausted(): boolean {
    return this.remainingMs <= 0;
  }
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly ms: number;
}

/** One request, aborted at min(perRequestMs, what the budget has left). Throws on a network error or the timeout. */
export async function request(url: string, budget: Budget, init: { headers?: Record<string, string>; method?: string; body?: string } = {}, perRequestMs = 10_000): Promise<HttpResult> {
  const timeout = Math.max(1, Math.floor(Math.min(perRequestMs, budget.remainingMs)));
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body, redirect: "manual", signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError") throw new Error(`no answer within ${Math.round(timeout)} ms`, { cause: err });
    throw new Error(e.cause?.code ?? e.cause?.message ?? e.message, { cause: err });
  }
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Prints one aligned line per check as it completes, and the summary. */
export class Report {
  readonly results: CheckResult[] = [];
  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}
  add(result: CheckResult): void {
    this.results.push(result);
    this.out(`${result.ok ? "PASS" : "FAIL"}  ${result.name.padEnd(28)} ${result.detail}`);
  }
  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }
  summary(what: string, budget: Budget): number {
    const passed = this.results.length - this.failed;
    this.out(`${what}: ${passed} passed, ${this.failed} failed in ${(budget.elapsedMs / 1000).toFixed(1)} s (budget ${(budget.totalMs / 1000).toFixed(0)} s)`);
    return this.failed === 0 ? 0 : 1;
  }
}

/** Runs main and exits with its code: 2 on a usage error (with the reason), 1 on anything unexpected. */
export function runCli(name: string, usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\nusage: ${usage}`);
        process.exit(2);
      }
      console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

export const snippet = (text: string, max = 160): string => {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
