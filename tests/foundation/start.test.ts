/**
 * `npm start` on a fresh machine: no configuration, embedded database, the local broker.
 * Runs the real entry point as a child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";


function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "DATABASE_URL" && k !== "AMQP_URL"));
  // node with the tsx loader, as `npm start` runs it: signals reach the service itself. (The tsx CLI
  // wrapper relays SIGTERM through a 30 ms handshake that a loaded machine can miss, and then
  // kills the service instead of letting it drain.)
  const child = spawn(process.execPath, ["--import", "tsx", "services/main.ts"], { env: { ...clean, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForHealth(url: string, ms: number): Promise<void> {
  await waitFor(`a healthy answer from ${url}`, async () => (await fetch(url)).ok, ms, 200, true);
}

describe("npm start", () => {
  let running: ChildProcess | undefined;
  afterEach(() => {
    running?.kill("SIGKILL");
    running = undefined;
  });

  /** A process on two free ports: the application port and the metrics listener. */
  async function startOnFreePorts(env: Record<string, string> = {}) {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const proc = start({ PORT: String(port), METRICS_PORT: String(metricsPort), ...env });
    running = proc.child;
    // Generous: on a shared 2-core machine under load, loading tsx and PGlite alone has taken 20 s.
    await waitForHealth(`http://127.0.0.1:${port}/healthz`, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    return { proc, app: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${metricsPort}` };
  }

  /** The metrics listener serves the exposition; the application port has no /metrics. */
  async function scrapeOnlyOnMetricsPort(app: string, metrics: string): Promise<string> {
    const onApp = await fetch(`${app}/metrics`);
    expect(onApp.status).toBe(404);
    expect(onApp.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const scrape = await fetch(`${metrics}/metrics`);
    expect(scrape.status).toBe(200);
    return scrape.text();
  }

  it("serves /healthz and /readyz with no configuration, /metrics on the metrics port, then stops cleanly on SIGTERM", async () => {
    const { proc, app, metrics } = await startOnFreePorts();
    const ready = await fetch(`${app}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const detailed = await fetch(`${metrics}/readyz`);
    expect(await detailed.json()).toEqual({ status: "ready", checks: { postgres: "ok", rabbitmq: "ok" } });
    expect(await scrapeOnlyOnMetricsPort(app, metrics)).toContain('dependency_up{dependency="postgres"} 1');
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 90_000);

  it("runs a worker-only process that serves probes and metrics but no API, for the chosen job types", async () => {
    const { proc, app, metrics } = await startOnFreePorts({ ROLES: "workers", JOB_TYPES: "image" });
    expect((await fetch(`${app}/v1/products`)).status).toBe(404);
    const text = await scrapeOnlyOnMetricsPort(app, metrics);
    expect(text).toMatch(/worker_concurrency\{type="image"\} [1-9]/);
    expect(text).not.toMatch(/worker_concurrency\{type="import"\} [1-9]/);
    expect((await fetch(`${metrics}/readyz`)).status).toBe(200);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 90_000);

  it("runs a scheduler-only process that serves its probes and metrics on the metrics port", async () => {
    const { proc, app, metrics } = await startOnFreePorts({ ROLES: "scheduler" });
    expect((await fetch(`${app}/v1/jobs`)).status).toBe(404);
    expect(await scrapeOnlyOnMetricsPort(app, metrics)).toContain('dependency_up{dependency="rabbitmq"} 1');
    expect((await fetch(`${metrics}/healthz`)).status).toBe(200);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 90_000);

  it("stops within seconds, saying what to start, when the broker is unreachable", async () => {
    const port = await freePort();
    const closed = await freePort();
    const t0 = Date.now();
    const proc = start({ PORT: String(port), METRICS_PORT: String(await freePort()), AMQP_URL: `amqp://guest:guest@127.0.0.1:${closed}`, AMQP_CONNECT_TIMEOUT_MS: "2000" });
    running = proc.child;
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(proc.output()).toContain("RabbitMQ is not reachable");
    expect(proc.output()).toContain("AMQP_URL");
    expect(proc.output()).not.toMatch(/^\s+at /m);
  }, 30_000);

  it("refuses a bad setting and names it", async () => {
    const proc = start({ PORT: "not-a-port" });
    running = proc.child;
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain("PORT");
  }, 30_000);
});
