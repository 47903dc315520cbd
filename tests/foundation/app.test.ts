import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Router } from "express";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { requireBearer } from "../../services/api/auth.js";
import { conflict } from "../../services/api/problem.js";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";

describe("the API shell", () => {
  let server: Server;
  let base: string;
  let postgresUp = true;
  const metrics = new MetricsRegistry();

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
    const app = createApp({
      logger: silentLogger(),
      metrics,
      readiness: {
        postgres: async () => {
          if (!postgresUp) throw new Error("connection refused");
        },
        slow: () => new Promise((r) => setTimeout(r, 10)),
      },
      routers: [router],
      bodyLimit: "1kb",
      readinessTimeoutMs: 500,
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("serves liveness and readiness, and readiness follows the dependencies", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    postgresUp = false;
    const notReady = await fetch(`${base}/readyz`);
    postgresUp = true;
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { checks: Record<string, string> };
    expect(body.checks.postgres).toMatch(/^down: connection refused/);
    expect(body.checks.slow).toBe("ok");
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
    expect(text).not.toContain("12345");
    expect(text).not.toContain("777");
    expect(text).toMatch(/route="unmatched",status_code="404"/);
    expect(text).toContain("http_request_duration_seconds_bucket");
  });
});
