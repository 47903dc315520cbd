/**
 * `npm run smoke` as the deploy workflow runs it: against the pipeline built the way `npm start`
 * builds it (services/platform.ts through the pipeline harness, real Postgres and RabbitMQ) it
 * passes every check; against broken services it fails, naming the check: the database cut
 * through a TCP proxy, a server that answers 500, one that serves /metrics and the API without a
 * token on its public port, a wrong token, and one that never answers (the time budget).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../jobs/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";
import { startHarness, TOKEN, type PipelineHarness } from "../pipeline/harness.js";
import { checkLine, httpServer, npmRun, removeTempFiles, tempFile } from "./cli.js";

const ALL_CHECKS = ["healthz", "readyz", "metrics-not-public", "auth-required", "authenticated-read", "metrics-exposed", "readyz-detailed"];

let h: PipelineHarness;
let proxy: TcpProxy;
const tokenFile = tempFile("token", `${TOKEN},another-token\n`);

beforeAll(async () => {
  proxy = new TcpProxy("127.0.0.1", 5432);
  await proxy.listen();
  h = await startHarness({}, { postgresPort: proxy.port });
}, 60_000);
afterAll(async () => {
  removeTempFiles();
  await h?.close();
  await proxy?.close();
});

describe("npm run smoke", () => {
  it("passes every check against the running service, one line per check", async () => {
    const r = await npmRun("smoke", ["--base-url", h.baseUrl, "--metrics-url", h.metricsUrl, "--token-file", tokenFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const name of ALL_CHECKS) expect(checkLine(r.stdout, name), name).toMatch(/^PASS/);
    expect(r.stdout).toMatch(/smoke: 7 passed, 0 failed in [\d.]+ s \(budget 60 s\)/);
  });

  it("checks only the application port without --metrics-url", async () => {
    const r = await npmRun("smoke", ["--base-url", `${h.baseUrl}/`, "--token-file", tokenFile]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/smoke: 5 passed, 0 failed/);
    expect(checkLine(r.stdout, "metrics-exposed")).toBeUndefined();
  });

  it("fails on readiness when the database is cut, naming it on the metrics listener", async () => {
    await proxy.close();
    try {
      await waitFor("readiness to see the cut", async () => (await fetch(`${h.baseUrl}/readyz`)).status === 503, 20_000, 200);
      const r = await npmRun("smoke", ["--base-url", h.baseUrl, "--metrics-url", h.metricsUrl, "--token-file", tokenFile, "--retries", "1"]);
      expect(r.code).toBe(1);
      expect(checkLine(r.stdout, "healthz")).toMatch(/^PASS/);
      expect(checkLine(r.stdout, "readyz")).toMatch(/^FAIL .*expected 200, got 503/);
      expect(checkLine(r.stdout, "readyz-detailed")).toMatch(/^FAIL .*postgres: /);
      expect(r.stdout).toMatch(/smoke: \d passed, [1-9] failed/);
    } finally {
      await proxy.listen(proxy.port);
    }
    await waitFor("readiness to recover", async () => (await fetch(`${h.baseUrl}/readyz`)).status === 200, 30_000, 200);
  });

  it("fails with a wrong token", async () => {
    const r = await npmRun("smoke", ["--base-url", h.baseUrl], { SMOKE_TOKEN: "not-a-token-of-this-service" });
    expect(r.code).toBe(1);
    expect(checkLine(r.stdout, "authenticated-read")).toMatch(/^FAIL .*expected 200, got 403/);
  });

  it("fails against a service that answers 500", async () => {
    const broken = await httpServer((_req, res) => res.writeHead(500, { "content-type": "application/json" }).end('{"title":"boom"}'));
    try {
      const r = await npmRun("smoke", ["--base-url", broken.url, "--token-file", tokenFile, "--retries", "0"]);
      expect(r.code).toBe(1);
      for (const name of ["healthz", "readyz", "authenticated-read"]) expect(checkLine(r.stdout, name), name).toMatch(/^FAIL .*got 500/);
    } finally {
      await broken.close();
    }
  });

  it("fails against a service that serves metrics and data on its public port without a token", async () => {
    const leaky = await httpServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      if (path === "/readyz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ready"}');
      if (path === "/metrics") return void res.writeHead(200, { "content-type": "text/plain" }).end("# TYPE http_requests_total counter\n");
      res.writeHead(200, { "content-type": "application/json" }).end('{"items":[]}');
    });
    try {
      const r = await npmRun("smoke", ["--base-url", leaky.url, "--token-file", tokenFile]);
      expect(r.code).toBe(1);
      expect(checkLine(r.stdout, "metrics-not-public")).toMatch(/^FAIL .*expected 404/);
      expect(checkLine(r.stdout, "auth-required")).toMatch(/^FAIL .*expected 401 without a token, got 200/);
      expect(checkLine(r.stdout, "authenticated-read")).toMatch(/^PASS/);
    } finally {
      await leaky.close();
    }
  });

  it("gives up within its time budget on a service that never answers", async () => {
    const silent = await httpServer(() => undefined);
    try {
      const r = await npmRun("smoke", ["--base-url", silent.url, "--token-file", tokenFile, "--budget", "2s"]);
      expect(r.code).toBe(1);
      expect(checkLine(r.stdout, "healthz")).toMatch(/^FAIL .*no answer within \d+ ms/);
      expect(checkLine(r.stdout, "authenticated-read")).toMatch(/^FAIL .*not attempted: the time budget ran out/);
      expect(r.stdout).toMatch(/smoke: 0 passed, 5 failed in [\d.]+ s \(budget 2 s\)/);
    } finally {
      await silent.close();
    }
  });

  it("explains bad usage and exits 2", async () => {
    const missing = await npmRun("smoke", []);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--base-url is required\nusage: npm run smoke -- --base-url <url>/);
    const bad = await npmRun("smoke", ["--base-url", "ftp://x", "--budget", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--base-url: "ftp:\/\/x" is not an http\(s\) URL/);
    const noFile = await npmRun("smoke", ["--base-url", h.baseUrl, "--token-file", "/nonexistent/token"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--token-file: cannot read \/nonexistent\/token \(ENOENT\)/);
  });
});
