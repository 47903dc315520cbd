/**
 * What the internet-facing load balancer reaches (issue 17, point 5), against the platform built
 * by services/platform.ts with real Postgres and RabbitMQ: the application port serves no
 * /metrics and a /readyz that names no dependency; the metrics listener serves the exposition
 * and the detailed readiness; every /v1 route takes a bearer token, API_TOKENS outside
 * /v1/admin and ADMIN_TOKENS inside.
 */
import { Writable } from "node:stream";
import type { Router } from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../jobs/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";
import { startHarness, TOKEN, type PipelineHarness } from "../pipeline/harness.js";

const ADMIN = "edge-admin-token";
const UNKNOWN = "0190f0e0-0000-7000-8000-000000000000";

interface LogLine {
  level: number;
  msg: string;
  checks?: Record<string, string>;
}

let h: PipelineHarness;
let proxy: TcpProxy;
let postgresCut = false;
const logLines: LogLine[] = [];

beforeAll(async () => {
  proxy = new TcpProxy("127.0.0.1", 5432);
  await proxy.listen();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) logLines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  h = await startHarness({ ADMIN_TOKENS: ADMIN }, { postgresPort: proxy.port, logger: pino({ level: "info" }, sink) });
});
afterAll(async () => {
  if (postgresCut) await proxy.listen(proxy.port);
  await h?.close();
  await proxy?.close();
});

interface RouteInfo {
  method: string;
  path: string;
}

/** Every route the application port's app serves, read from Express's own router stack. */
function routesOf(app: { router: Router }): RouteInfo[] {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const out: RouteInfo[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push({ method: m.toUpperCase(), path: layer.route.path });
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk(app.router.stack as unknown as Layer[]);
  return out;
}

async function call(route: RouteInfo, authorization?: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(h.baseUrl + route.path.replaceAll(":id", UNKNOWN), {
    method: route.method,
    headers: { ...(authorization ? { authorization } : {}), ...(route.method === "POST" ? { "content-type": "application/json" } : {}) },
    body: route.method === "POST" ? "{}" : undefined,
  });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

describe("the application port", () => {
  it("answers /metrics with a 404 problem+json, with or without a token; the metrics listener serves the catalog", async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await fetch(`${h.baseUrl}/metrics`, { headers });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { status: number }).status).toBe(404);
    }
    const scrape = await h.scrape();
    expect(scrape).toContain("# TYPE products_by_status gauge");
    expect(scrape).toContain('dependency_up{dependency="postgres"} 1');
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });

  it("asks for a bearer token on every /v1 route: none 401, unknown 403; admin routes refuse the API token", async () => {
    const routes = routesOf(h.platform.app as unknown as { router: Router }).filter((r) => r.path.startsWith("/v1/"));
    // The reads that used to be public are among them, so the walk cannot pass by finding nothing.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(["GET /v1/products", "GET /v1/products/:id", "GET /v1/imports/:id", "GET /v1/jobs", "GET /v1/jobs/:id", "GET /v1/admin/dead-jobs"]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(13);
    const wrong: string[] = [];
    for (const route of routes) {
      const admin = route.path.startsWith("/v1/admin/");
      const expectations: [string, string | undefined, (s: number) => boolean][] = [
        ["no token", undefined, (s) => s === 401],
        ["an unknown token", "Bearer not-a-token", (s) => s === 403],
        ["a Basic header", "Basic Zm9vOmJhcg==", (s) => s === 401],
        ["the API token", `Bearer ${TOKEN}`, admin ? (s) => s === 403 : (s) => s !== 401 && s !== 403],
        ["the admin token", `Bearer ${ADMIN}`, admin ? (s) => s !== 401 && s !== 403 : () => true],
      ];
      for (const [what, authorization, ok] of expectations) {
        const r = await call(route, authorization);
        if (!ok(r.status)) wrong.push(`${route.method} ${route.path} with ${what}: ${r.status} ${r.body.slice(0, 120)}`);
        if (r.status === 401 || r.status === 403) expect(r.type, `${route.method} ${route.path}`).toMatch(/^application\/problem\+json/);
      }
    }
    expect(wrong).toEqual([]);
    // Nothing above wrote anything.
    expect(await h.db.prisma.import.count()).toBe(0);
  });

  it("says only ready or not ready on /readyz; the metrics listener and the log name the failing dependency", async () => {
    expect(await (await fetch(`${h.baseUrl}/readyz`)).json()).toEqual({ status: "ready" });
    await proxy.close();
    postgresCut = true;
    const address = `127.0.0.1:${proxy.port}`;

    // The detail (the refused address) shows on the metrics listener...
    const detailed = await waitFor(
      "the metrics listener to report the refused Postgres address",
      async () => {
        const r = await fetch(`${h.metricsUrl}/readyz`);
        const body = (await r.json()) as { status: string; checks: Record<string, string> };
        return r.status === 503 && body.checks.postgres?.includes(address) ? body : undefined;
      },
      15_000,
      100,
    );
    expect(detailed).toMatchObject({ status: "not-ready", checks: { rabbitmq: "ok" } });
    expect(detailed.checks.postgres).toMatch(/^down: /);
    // ... and in the log, once per change of outcome ...
    expect(logLines.some((l) => l.level === 40 && l.msg.startsWith("not ready") && l.checks?.postgres?.includes(address))).toBe(true);
    // ... while the application port says only "not ready".
    const publicAnswer = await waitFor(
      "the application port to say not-ready",
      async () => {
        const r = await fetch(`${h.baseUrl}/readyz`);
        return r.status === 503 ? r.text() : undefined;
      },
      15_000,
      100,
    );
    expect(JSON.parse(publicAnswer)).toEqual({ status: "not-ready" });
    expect(publicAnswer).not.toContain(String(proxy.port));
    expect(publicAnswer).not.toMatch(/127\.0\.0\.1|postgres|ECONNREFUSED|down/i);

    await proxy.listen(proxy.port);
    postgresCut = false;
    await waitFor("the application port to say ready again", async () => (await fetch(`${h.baseUrl}/readyz`)).status === 200, 15_000, 100);
    expect(await (await fetch(`${h.metricsUrl}/readyz`)).json()).toEqual({ status: "ready", checks: { postgres: "ok", rabbitmq: "ok" } });
    expect(logLines.some((l) => l.level === 30 && l.msg.startsWith("ready: every dependency check passes again"))).toBe(true);
  });
});
