/**
 * The fault-injection switch the local platform uses to produce real 5xx responses: off unless
 * FAULT_INJECTION=true, refused in production, admin-only, and when on it fails an exact, evenly
 * spread share of /v1 requests through the real error handler and HTTP metrics.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Router } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { FAULT_INJECTION_PATH, FaultInjector, faultInjectionRouter } from "../../services/api/fault-injection.js";
import { loadConfig } from "../../services/config.js";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";

const ADMIN = "admin-token";

describe("FAULT_INJECTION configuration", () => {
  it("is off by default and refused in production", () => {
    expect(loadConfig({}).FAULT_INJECTION).toBe(false);
    expect(loadConfig({ FAULT_INJECTION: "true" }).FAULT_INJECTION).toBe(true);
    const prod = { NODE_ENV: "production", DATABASE_URL: "postgresql://app@db.internal:5432/app", API_TOKENS: "a".repeat(32), ADMIN_TOKENS: "b".repeat(32) };
    expect(() => loadConfig({ ...prod, FAULT_INJECTION: "true" })).toThrow("FAULT_INJECTION: must be off when NODE_ENV=production");
    expect(loadConfig(prod).FAULT_INJECTION).toBe(false);
  });
});

describe("FaultInjector", () => {
  it("fails an exact, evenly spread share of calls", () => {
    const f = new FaultInjector();
    expect(Array.from({ length: 100 }, () => f.shouldFail()).filter(Boolean)).toHaveLength(0);
    f.set(0.06);
    const calls = Array.from({ length: 1000 }, () => f.shouldFail());
    expect(calls.filter(Boolean)).toHaveLength(60);
    // Evenly: every window of 100 consecutive calls holds 5 to 7 failures.
    for (let i = 0; i + 100 <= calls.length; i += 10) {
      const n = calls.slice(i, i + 100).filter(Boolean).length;
      expect(n).toBeGreaterThanOrEqual(5);
      expect(n).toBeLessThanOrEqual(7);
    }
  });
});

describe("the fault-injection route", () => {
  let server: Server;
  let base: string;
  const metrics = new MetricsRegistry();

  beforeAll(async () => {
    const things = Router();
    things.get("/v1/things", (_req, res) => void res.json({ ok: true }));
    const app = createApp({ logger: silentLogger(), metrics, readiness: {}, routers: [faultInjectionRouter({ injector: new FaultInjector(), adminTokens: [ADMIN] }), things] });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const put = (body: unknown, token = ADMIN) =>
    fetch(base + FAULT_INJECTION_PATH, { method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  it("needs the admin token and a ratio between 0 and 1", async () => {
    expect((await fetch(base + FAULT_INJECTION_PATH, { method: "PUT" })).status).toBe(401);
    expect((await put({ http500Ratio: 0.5 }, "nope")).status).toBe(403);
    const bad = await put({ http500Ratio: 2 });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect((await put({ http500Ratio: 0.1, extra: 1 })).status).toBe(400);
  });

  it("fails the configured share of /v1 requests with a problem+json 500 that the HTTP metrics count", async () => {
    expect((await put({ http500Ratio: 0.25 })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${base}/v1/things`);
      statuses.push(res.status);
      if (res.status === 500) expect(((await res.json()) as { type: string }).type).toMatch(/problems\/internal$/);
      else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(10);
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    // Health and metrics are outside /v1: never failed.
    for (let i = 0; i < 8; i++) expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const exposition = (await metrics.expose()).body;
    expect(exposition).toMatch(/http_requests_total\{[^}]*status_code="500"[^}]*\} 10/);
    expect((await put({ http500Ratio: 0 })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await fetch(`${base}/v1/things`)).status).toBe(200);
  });
});
