/**
 * The API against a restored copy, started exactly as production starts it (services/main.ts with
 * the tsx loader, NODE_ENV=production, ROLES=api, generated tokens) on a free loopback port, then the
 * smoke checks a deploy would run: /healthz, /readyz (Postgres and RabbitMQ), an authenticated list of
 * one product, and that product by id.
 *
 * ROLES=api still declares its queues and relays the job outbox, so it gets a queue namespace of its
 * own (`restore-drill.<id>.`): unpublished jobs in the restored copy are published there, never into
 * the live queues, and those queues are deleted when the API stops.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";
import { loadConfig } from "../../services/config.js";
import { jobEngineConfig } from "../../services/jobs/engine.js";
import { topology } from "../../services/jobs/topology.js";

const REPO_ROOT = join(import.meta.dirname, "../..");
export const DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface SmokeCheck {
  readonly name: string;
  readonly status: number;
  readonly ok: boolean;
  readonly detail: string;
}

export interface RunningApi {
  readonly baseUrl: string;
  readonly token: string;
  /** Seconds from spawn to the first healthy /healthz. */
  readonly readySeconds: number;
  output(): string;
  stop(): Promise<void>;
}

export interface ApiOptions {
  readonly databaseUrl: string;
  readonly amqpUrl?: string;
  readonly startTimeoutMs?: number;
}

/** Starts the API on the database; rejects (with its output) if it is not healthy in time. */
export async function startApi(opts: ApiOptions): Promise<RunningApi> {
  const [port, metricsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const token = randomBytes(24).toString("hex");
  const namespace = `restore-drill.${randomBytes(4).toString("hex")}.`;
  const env: Record<string, string> = {
    NODE_ENV: "production",
    ROLES: "api",
    HOST: "127.0.0.1",
    PORT: String(port),
    // Newer builds serve /metrics on a port of their own; keep it off any fixed port.
    METRICS_PORT: String(metricsPort),
    DATABASE_URL: opts.databaseUrl,
    AMQP_URL: opts.amqpUrl ?? DEFAULT_AMQP_URL,
    JOB_QUEUE_NAMESPACE: namespace,
    API_TOKENS: token,
    ADMIN_TOKENS: randomBytes(24).toString("hex"),
    LOG_LEVEL: "warn",
    SOURCE_CHECK_INTERVAL_MS: "0",
  };
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => ["PATH", "HOME", "TMPDIR", "NODE_OPTIONS"].includes(k)));
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "services/main.ts"], { cwd: REPO_ROOT, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  child.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await deleteQueues(env.AMQP_URL!, env).catch(() => undefined);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the API exited before it was healthy (${child.exitCode ?? child.signalCode}):\n${out.trim()}`);
    }
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the API was not healthy within ${opts.startTimeoutMs ?? 60_000} ms:\n${out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, token, readySeconds: (performance.now() - t0) / 1000, output: () => out, stop };
}

/** The API's queues in the drill's namespace, as its engine declared them. */
async function deleteQueues(amqpUrl: string, env: Record<string, string>): Promise<void> {
  const cfg = jobEngineConfig(loadConfig(env));
  const broker = new Connection({ url: amqpUrl, connectionName: "restore-drill-cleanup", retryLow: 100, retryHigh: 500 });
  broker.on("error", () => undefined);
  try {
    await broker.onConnect(5000);
    for (const spec of topology(cfg.retry, cfg.namespace)) await broker.queueDelete({ queue: spec.queue }).catch(() => undefined);
  } finally {
    await broker.close();
  }
}

async function check(name: string, url: string, init: RequestInit, accept: (status: number, body: unknown) => string | undefined): Promise<SmokeCheck & { body: unknown }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const problem = accept(res.status, body);
    return { name, status: res.status, ok: problem === undefined, detail: problem ?? "", body };
  } catch (err) {
    return { name, status: 0, ok: false, detail: (err as Error).message, body: undefined };
  }
}

/**
 * The smoke checks against a running API. `expectProducts`: whether the restored copy has products,
 * so the list must return one (and that product must be readable by id).
 */
export async function smokeChecks(api: Pick<RunningApi, "baseUrl" | "token">, expectProducts: boolean): Promise<SmokeCheck[]> {
  const auth = { headers: { authorization: `Bearer ${api.token}` } };
  const status200 = (s: number) => (s === 200 ? undefined : `expected 200, got ${s}`);
  const results: SmokeCheck[] = [];
  results.push(await check("GET /healthz", `${api.baseUrl}/healthz`, {}, status200));
  results.push(await check("GET /readyz", `${api.baseUrl}/readyz`, {}, status200));
  const list = await check("GET /v1/products?limit=1", `${api.baseUrl}/v1/products?limit=1`, auth, (s, body) => {
    if (s !== 200) return `expected 200, got ${s}`;
    const items = (body as { items?: unknown[] }).items;
    if (!Array.isArray(items)) return "no items array in the answer";
    if (expectProducts && items.length !== 1) return `expected 1 product, got ${items.length}`;
    return undefined;
  });
  results.push(list);
  const first = ((list.body as { items?: { id?: string }[] } | undefined)?.items ?? [])[0];
  if (first?.id) {
    results.push(
      await check(`GET /v1/products/${first.id}`, `${api.baseUrl}/v1/products/${first.id}`, auth, (s, body) =>
        s !== 200 ? `expected 200, got ${s}` : (body as { id?: string }).id === first.id ? undefined : "a different product came back",
      ),
    );
  }
  return results.map(({ name, status, ok, detail }) => ({ name, status, ok, detail }));
}
