/**
 * The HTTP surface: GET /v1/jobs (filters, pagination), GET /v1/jobs/:id, and the admin
 * dead-letter endpoints (list, inspect, retry by ids or filter, discard to the archive),
 * behind bearer tokens, with problem+json errors.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../services/api/app.js";
import { loadConfig } from "../../services/config.js";
import { createJobSystem, type JobSystem } from "../../services/jobs/system.js";
import { PermanentJobError } from "../../services/jobs/types.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { harness, jobRow, testEngineConfig, waitFor, type Harness } from "./helpers.js";

let h: Harness;
let system: JobSystem;
let server: Server;
let base: string;
let healthy = false;
const USER = "user-token";
const ADMIN = "admin-token";

beforeAll(async () => {
  h = await harness("api");
  const metrics = new MetricsRegistry();
  system = createJobSystem({
    config: loadConfig({ API_TOKENS: USER, ADMIN_TOKENS: ADMIN }),
    db: h.db,
    broker: h.broker,
    logger: h.logger,
    metrics,
    engineConfig: testEngineConfig(h.namespace),
  });
  await system.start();
  system.engine.register<{ fail?: string }>("import", async (p) => {
    if (p.fail && !healthy) throw new PermanentJobError(p.fail);
  });
  system.engine.startWorkers();
  const app = createApp({ logger: h.logger, metrics, readiness: {}, routers: system.routers, requestLogging: false });
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await system?.stop(1000);
  await h?.close();
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, unknown> & { items?: { id: string; status: string }[] } };
}

async function deadJobs(n: number, reason: string): Promise<string[]> {
  const { jobIds } = await system.engine.enqueueMany(Array.from({ length: n }, () => ({ type: "import" as const, payload: { fail: reason } })));
  await waitFor("dead", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "dead" } })) === n);
  return jobIds;
}

describe("GET /v1/jobs", () => {
  it("needs a token, filters by type and status, and pages with a cursor", async () => {
    const { jobIds } = await system.engine.enqueueMany(Array.from({ length: 5 }, () => ({ type: "import" as const, payload: {} })));
    await waitFor("completed", async () => (await h.db.prisma.job.count({ where: { id: { in: jobIds }, status: "completed" } })) === 5);
    expect((await call("GET", "/v1/jobs")).status).toBe(401);
    const first = await call("GET", "/v1/jobs?type=import&status=completed&limit=3", USER);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    const second = await call("GET", `/v1/jobs?type=import&status=completed&limit=3&cursor=${first.body.nextCursor}`, USER);
    const seen = [...first.body.items!, ...second.body.items!].map((j) => j.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(jobIds));
    expect([...first.body.items!, ...second.body.items!].every((j) => j.status === "completed")).toBe(true);
    const bad = await call("GET", "/v1/jobs?status=bogus", USER);
    expect(bad.status).toBe(400);
    expect(bad.type).toContain("application/problem+json");
  });

  it("GET /v1/jobs/:id returns one job, 404 for an unknown id", async () => {
    const { jobId } = await system.engine.enqueue("import", {});
    const r = await call("GET", `/v1/jobs/${jobId}`, USER);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(jobId);
    expect((await call("GET", "/v1/jobs/6f1c2b1e-3d4a-4b5c-8d6e-7f8091a2b3c4", USER)).status).toBe(404);
  });
});

describe("/v1/admin/dead-jobs", () => {
  it("is for admin tokens only", async () => {
    expect((await call("GET", "/v1/admin/dead-jobs")).status).toBe(401);
    expect((await call("GET", "/v1/admin/dead-jobs", USER)).status).toBe(403);
  });

  it("lists and inspects dead jobs with their payload and errors", async () => {
    healthy = false;
    const [id] = await deadJobs(1, "list me");
    const list = await call("GET", "/v1/admin/dead-jobs?type=import", ADMIN);
    expect(list.body.items!.map((j) => j.id)).toContain(id);
    const one = await call("GET", `/v1/admin/dead-jobs/${id}`, ADMIN);
    expect(one.body).toMatchObject({ id, status: "dead", payload: { fail: "list me" }, lastError: "list me" });
    expect(one.body.history).toHaveLength(1);
  });

  it("retries by ids and by filter; the jobs run again and complete", async () => {
    healthy = false;
    const byId = await deadJobs(2, "retry by id");
    const byFilter = await deadJobs(3, "retry by filter");
    healthy = true;
    // An operator may paste an id in upper case: it is the same job, retried and not reported
    // as unknown beside its own retry.
    const r1 = await call("POST", "/v1/admin/dead-jobs/retry", ADMIN, { ids: [byId[0]!.toUpperCase(), byId[1]!] });
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ retried: 2, published: 2, skipped: [] });
    const r2 = await call("POST", "/v1/admin/dead-jobs/retry", ADMIN, { filter: { type: "import", errorContains: "BY FILTER" } });
    expect(r2.body).toMatchObject({ retried: 3, published: 3 });
    const all = [...byId, ...byFilter];
    await waitFor("retried jobs completed", async () => (await h.db.prisma.job.count({ where: { id: { in: all }, status: "completed" } })) === 5);
    const row = await jobRow(h.db, byFilter[0]!);
    expect((row.history as { event?: string }[]).some((e) => e.event === "retried-from-dead")).toBe(true);
    expect((await call("POST", "/v1/admin/dead-jobs/retry", ADMIN, {})).status).toBe(400);
    expect((await call("POST", "/v1/admin/dead-jobs/retry", ADMIN, { filter: {} })).status).toBe(400);
  });

  it("discards dead jobs into the archive (never deleted)", async () => {
    healthy = false;
    const ids = await deadJobs(2, "discard me");
    const r = await call("POST", "/v1/admin/dead-jobs/discard", ADMIN, { ids });
    expect(r.body).toMatchObject({ discarded: 2 });
    expect(await h.db.prisma.job.count({ where: { id: { in: ids } } })).toBe(0);
    const archived = await h.db.prisma.archivedJob.findMany({ where: { id: { in: ids } } });
    expect(archived).toHaveLength(2);
    expect(archived[0]!.lastError).toBe("discard me");
    expect((archived[0]!.history as { event?: string }[]).at(-1)!.event).toBe("discarded");
    expect((await call("GET", `/v1/admin/dead-jobs/${ids[0]}`, ADMIN)).status).toBe(404);
  });
});
