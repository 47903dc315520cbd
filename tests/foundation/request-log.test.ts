import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { Router } from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";

describe("request logging", () => {
  const lines: Record<string, unknown>[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const logger = pino({ level: "info" }, sink);
    const router = Router();
    router.get("/v1/ok", (_req, res) => void res.json({ ok: true }));
    router.get("/v1/fail", () => {
      throw new Error("kaput");
    });
    const app = createApp({ logger, metrics: new MetricsRegistry(), readiness: {}, routers: [router] });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it("writes one line per request with the request id, status and duration, levelled by status", async () => {
    await fetch(`${base}/v1/ok`, { headers: { "x-request-id": "req-ok" } });
    await fetch(`${base}/v1/missing`, { headers: { "x-request-id": "req-404" } });
    await fetch(`${base}/healthz`, { headers: { "x-request-id": "req-health" } });
    await settle();
    const ok = lines.filter((l) => l.reqId === "req-ok");
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ level: 30, method: "GET", url: "/v1/ok", statusCode: 200, msg: "request completed" });
    expect(typeof ok[0]?.responseTimeMs).toBe("number");
    expect(lines.find((l) => l.reqId === "req-404")).toMatchObject({ level: 40, statusCode: 404 });
    expect(lines.some((l) => l.reqId === "req-health")).toBe(false);
  });

  it("logs an unexpected error with its request id and stack, at error level", async () => {
    await fetch(`${base}/v1/fail`, { headers: { "x-request-id": "req-fail" } });
    await settle();
    const forReq = lines.filter((l) => l.reqId === "req-fail");
    const errorLine = forReq.find((l) => l.msg === "unhandled error") as { level: number; err: { message: string; stack: string } } | undefined;
    expect(errorLine?.level).toBe(50);
    expect(errorLine?.err.message).toBe("kaput");
    expect(errorLine?.err.stack).toContain("request-log.test.ts");
    expect(forReq.find((l) => l.msg === "request completed")).toMatchObject({ level: 50, statusCode: 500 });
  });
});
