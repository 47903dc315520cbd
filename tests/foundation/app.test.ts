import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { Router, type Express } from "express";
import { pino } from "pino";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { requireBearer } from "../../services/api/auth.js";
import { createMetricsApp } from "../../services/api/metrics-listener.js";
import { conflict } from "../../services/api/problem.js";
import { Readiness } from "../../services/api/readiness.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";

async function serve(app: Express): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("the API shell", () => {
  let server: Server;
  let base: string;
  let metricsServer: Server;
  let metricsBase: string;
  let postgresUp = true;
  let postgresHangs = false;
  const metrics = new MetricsRegistry();
  const logLines: { level: number; msg: string; checks?: Record<string, string> }[] = [];

  beforeAll(async () => {
    const router = Router();
    router.post("/v1/things/:id", requireBearer(["secret"]), (req, res) => {
      const body = z.object({ name: z.string().min(1) }).parse(req.body);
      if (body.name === "taken") throw conflict("name already taken");
      res.status(201).json({ id: req.params.id, ...body });
    });
    router.get("/v1/boom", () => {
      throw new Error("database password is hunter2");
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split("\n")) if (l.trim()) logLines.push(JSON.parse(l) as (typeof logLines)[number]);
        cb();
      },
    });
    const logger = pino({ level: "info" }, sink);
    // One Readiness behind both listeners, as services/platform.ts wires it.
    const readiness = new Readiness(
      {
        postgres: async () => {
          if (postgresHangs) await new Promise(() => undefined);
          if (!postgresUp) throw new Error("connect ECONNREFUSED 10.1.2.3:5432 (db.internal)");
        },
        slow: () => new Promise((r) => setTimeout(r, 10)),
      },
      { timeoutMs: 500, logger },
    );
    const app = createApp({ logger, metrics, readiness, readinessMaxAgeMs: 0, routers: [router], bodyLimit: "1kb" });
    ({ server, url: base } = await serve(app));
    ({ server: metricsServer, url: metricsBase } = await serve(createMetricsApp({ logger, metrics, readiness })));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => metricsServer.close(() => r()));
  });

  it("serves liveness, and a readiness that follows the dependencies but names none of them", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    postgresUp = false;
    const notReady = await fetch(`${base}/readyz`);
    const detailed = await fetch(`${metricsBase}/readyz`);
    postgresUp = true;
    expect(notReady.status).toBe(503);
    const text = await notReady.text();
    expect(JSON.parse(text)).toEqual({ status: "not-ready" });
    expect(text).not.toMatch(/postgres|ECONNREFUSED|10\.1\.2\.3|db\.internal/);
    // The detail is on the metrics listener and in the log.
    expect(detailed.status).toBe(503);
    const body = (await detailed.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe("not-ready");
    expect(body.checks.postgres).toBe("down: connect ECONNREFUSED 10.1.2.3:5432 (db.internal)");
    expect(body.checks.slow).toBe("ok");
    const logged = logLines.find((l) => l.msg.startsWith("not ready"));
    expect(logged?.level).toBe(40);
    expect(logged?.checks?.postgres).toContain("10.1.2.3:5432");
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(logLines.find((l) => l.msg.startsWith("ready: every dependency check passes again"))?.level).toBe(30);
  });

  it("bounds every readiness check in time", async () => {
    postgresHangs = true;
    const [pub, detailed] = await Promise.all([fetch(`${base}/readyz`), fetch(`${metricsBase}/readyz`)]);
    postgresHangs = false;
    expect(pub.status).toBe(503);
    expect(((await detailed.json()) as { checks: Record<string, string> }).checks.postgres).toBe("down: timed out after 500 ms");
  });

  it("serves /metrics on the metrics listener only; the application port answers 404 problem+json", async () => {
    const onApp = await fetch(`${base}/metrics`);
    expect(onApp.status).toBe(404);
    expect(onApp.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(((await onApp.json()) as { status: number }).status).toBe(404);
    const scrape = await fetch(`${metricsBase}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await scrape.text()).toContain("# TYPE http_requests_total counter");
    expect((await fetch(`${metricsBase}/v1/things/1`, { method: "POST" })).status).toBe(404);
  });

  it.each([
    ["no token", {}, '{"name":"a"}', 401],
    ["a wrong token", { authorization: "Bearer nope" }, '{"name":"a"}', 403],
    ["malformed JSON", { authorization: "Bearer secret" }, '{"name":', 400],
    ["a missing field", { authorization: "Bearer secret" }, "{}", 400],
    ["a wrong type", { authorization: "Bearer secret" }, '{"name":5}', 400],
    ["a body over the limit", { authorization: "Bearer secret" }, JSON.stringify({ name: "x".repeat(5000) }), 413],
    ["a conflict", { authorization: "Bearer secret" }, '{"name":"taken"}', 409],
  ])("answers %s with problem+json %i", async (_case, headers, body, status) => {
    const res = await fetch(`${base}/v1/things/1`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { type: string; title: string; status: number; detail: string };
    expect(problem.status).toBe(status);
    expect(problem.type).toMatch(/^https:\/\//);
    expect(problem.detail).toBeTruthy();
  });

  it("hides internal errors behind a generic 500", async () => {
    const res = await fetch(`${base}/v1/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("hunter2");
  });

  it("carries a valid incoming request id and replaces an invalid one", async () => {
    const kept = await fetch(`${base}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(kept.headers.get("x-request-id")).toBe("abc-123");
    const replaced = await fetch(`${base}/healthz`, { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("labels HTTP metrics by route template, never by raw path", async () => {
    await fetch(`${base}/v1/things/12345`, { method: "POST", headers: { authorization: "Bearer secret", "content-type": "application/json" }, body: '{"name":"ok"}' });
    await fetch(`${base}/v1/nowhere/777`);
    const text = (await metrics.expose()).body;
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/things\/:id",status_code="201"\} 1/);
    // No label set names a raw path's id (a sample's value may hold any digits: 0.001177751).
    const labelSets = text.match(/\{[^}]*\}/g) ?? [];
    expect(labelSets.length).toBeGreaterThan(0);
    expect(labelSets.filter((l) => l.includes("12345") || l.includes("777"))).toEqual([]);
    expect(text).toMatch(/route="unmatched",status_code="404"/);
    expect(text).toContain("http_request_duration_seconds_bucket");
  });
});

describe("readiness", () => {
  it("shares one run between callers that ask while it is in flight", async () => {
    let runs = 0;
    let release!: () => void;
    const readiness = new Readiness({
      postgres: () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
    });
    const reports = [readiness.report(), readiness.report(), readiness.report(0)];
    release();
    expect((await Promise.all(reports)).map((r) => r.ready)).toEqual([true, true, true]);
    expect(runs).toBe(1);
  });

  it("answers from a result younger than the maximum age, and runs again once it is older", async () => {
    let now = 1_000;
    let runs = 0;
    const readiness = new Readiness(
      {
        postgres: async () => {
          runs++;
        },
      },
      { now: () => now },
    );
    await readiness.report(1000);
    now += 1000;
    await readiness.report(1000);
    expect(runs).toBe(1);
    await readiness.report(0);
    expect(runs).toBe(2);
    now += 1001;
    await readiness.report(1000);
    expect(runs).toBe(3);
  });
});
