/**
 * The images run, as the pods run them, from nothing but the files their Dockerfile copies: each
 * image's filesystem is materialized (dockerfile.ts), owned by root and so read-only to the pods'
 * uid, and the command runs as that uid with the Dockerfile's ENV and WORKDIR, the pod's env from
 * the rendered plan (secrets filled in locally), real Postgres and RabbitMQ, and /tmp as the only
 * writable place. There is no Docker engine here: the kernel is this machine's and so are the
 * base image's executables (node, tini from Debian's package, pg_dump), the rest is the image's.
 *
 * - The API (ENTRYPOINT tini + CMD) comes up, passes `npm run smoke` with the metrics listener,
 *   and on SIGTERM to tini drains and exits 0.
 * - The ops image's db-backup (OPS_COMMANDS.dbBackup) writes a verified dump to /tmp, its CMD
 *   lists the commands, and `npx prisma validate` resolves the Prisma CLI offline from both
 *   images' node_modules, reading prisma.config.ts and the schema from the image.
 * - Afterwards nothing outside /tmp belongs to the uid: nothing wrote to the image's files.
 *
 * Switching to the pods' uid needs root, as .ci/run and ci.yml run the tests; as another user the
 * suite is skipped (and says so).
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "rabbitmq-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageName } from "../../model/delivery.js";
import { loadConfig } from "../../services/config.js";
import { jobEngineConfig } from "../../services/jobs/engine.js";
import { topology } from "../../services/jobs/topology.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { freePort, startProcess, type Running } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";
import { AMQP_URL } from "../pipeline/harness.js";
import { checkLine, npmRun, removeTempFiles, tempFile } from "./cli.js";
import { containerArgv } from "./dockerfile.js";
import { buildTree, type ImageTree } from "./image-contents.js";
import { plannedContainers, type PlannedContainer } from "./plan-containers.js";

const API_TOKEN = "image-runtime-api-token-0123456789abcdef";
const ADMIN_TOKEN = "image-runtime-admin-token-0123456789abcdef";
const NAMESPACE = `test.image-runtime.${process.pid}.`;

let containers: PlannedContainer[] = [];
let db: TestDatabase;
const trees = {} as Record<ImageName, ImageTree>;
let uid = 0;
let gid = 0;
const scratch: string[] = [];
const running: Running[] = [];

beforeAll(async () => {
  if (!AS_ROOT) return;
  containers = await plannedContainers("staging");
  const api = containers.find((c) => c.kind === "Rollout");
  uid = Number(api?.podSecurity["runAsUser"]);
  gid = Number(api?.podSecurity["runAsGroup"]);
  expect(uid).toBeGreaterThan(0);
  trees.app = buildTree("app");
  trees.ops = buildTree("ops");
  db = await createTestDatabase("img");
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  removeTempFiles();
  for (const t of Object.values(trees)) t?.remove();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
  await db?.drop();
  const env = { JOB_QUEUE_NAMESPACE: NAMESPACE };
  const broker = new Connection({ url: AMQP_URL, connectionName: "image-runtime-cleanup", retryLow: 100, retryHigh: 500 });
  broker.on("error", () => undefined);
  try {
    await broker.onConnect(5000);
    for (const spec of topology(jobEngineConfig(loadConfig(env)).retry, NAMESPACE)) await broker.queueDelete({ queue: spec.queue }).catch(() => undefined);
  } finally {
    await broker.close();
  }
});

/** The image's ENV (PATH completed with this machine's, where the base image's executables are). */
function imageEnv(tree: ImageTree): Record<string, string> {
  const env = { ...tree.df.final.env };
  env["PATH"] = env["PATH"] ? env["PATH"].replace(/:$/, `:${process.env["PATH"]}`) : (process.env["PATH"] ?? "");
  return env;
}

/** The pod's env from the plan: plain values as rendered, the secrets it references filled in here. */
function podEnv(c: PlannedContainer, overrides: Record<string, string>): Record<string, string> {
  const secrets: Record<string, string> = { DATABASE_URL: db.url, AMQP_URL, API_TOKENS: API_TOKEN, ADMIN_TOKENS: ADMIN_TOKEN };
  const env: Record<string, string> = {};
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.name in secrets) env[e.name] = secrets[e.name]!;
    else throw new Error(`${c.where}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}, which this test does not fill in`);
  }
  return { ...env, ...overrides };
}

/** A directory under /tmp the image's user owns (the pods' emptyDir). */
function writableTmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, uid, gid);
  scratch.push(dir);
  return dir;
}

/** Files owned by the image's uid outside /tmp's scratch: where a read-only root filesystem would have refused a write. */
function writtenOutsideTmp(tree: ImageTree): string[] {
  const roots = [tree.root, "/var/tmp", "/dev/shm"].filter((d) => existsSync(d));
  return roots.flatMap((r) => {
    try {
      return execFileSync("find", [r, "-xdev", "-uid", String(uid)], { encoding: "utf8" }).split("\n").filter(Boolean);
    } catch {
      return [];
    }
  });
}

const AS_ROOT = process.getuid?.() === 0;

describe.skipIf(!AS_ROOT)("the app image, run as the API pod runs it (as root: the test switches to the pods' uid)", () => {
  it("comes up read-only as its uid, passes the smoke tests, and drains on SIGTERM to tini", async () => {
    const api = containers.find((c) => c.kind === "Rollout")!;
    const tree = trees.app;
    const [port, metricsPort] = [await freePort(), await freePort()];
    const argv = containerArgv(tree.df, api.command, api.args);
    expect(argv.slice(0, 2)).toEqual(["/usr/bin/tini", "--"]);
    const env = {
      ...imageEnv(tree),
      ...podEnv(api, { HOST: "127.0.0.1", PORT: String(port), METRICS_PORT: String(metricsPort), JOB_QUEUE_NAMESPACE: NAMESPACE, LOG_LEVEL: "info" }),
    };
    const proc = startProcess(argv[0]!, argv.slice(1), { env, cwd: tree.path("."), uid, gid });
    running.push(proc);
    const exited = new Promise<number | null>((resolve) => proc.child.once("exit", (code) => resolve(code)));
    await waitFor(
      `the API from the image on :${port}`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode} before it was healthy`);
        return fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });

    const tokenFile = tempFile("token", `${API_TOKEN}\n`);
    const smoke = await npmRun("smoke", ["--base-url", `http://127.0.0.1:${port}`, "--metrics-url", `http://127.0.0.1:${metricsPort}`, "--token-file", tokenFile]);
    expect(smoke.code, smoke.stdout + smoke.stderr + proc.output()).toBe(0);
    expect(checkLine(smoke.stdout, "readyz-detailed")).toMatch(/^PASS/);

    proc.child.kill("SIGTERM");
    expect(await exited, proc.output()).toBe(0);
    expect(proc.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"[\s\S]*"msg":"stopped"/);
    expect(proc.output()).not.toMatch(/EACCES|EROFS|EPERM/);
    expect(writtenOutsideTmp(tree)).toEqual([]);
  }, 180_000);
});

describe.skipIf(!AS_ROOT)("the ops image, run as its Jobs run it (as root: the test switches to the pods' uid)", () => {
  it("takes a verified dump with OPS_COMMANDS.dbBackup into /tmp", async () => {
    const tree = trees.ops;
    const out = writableTmp("ops-dump-");
    const argv = [...containerArgv(tree.df, ["node", "--import", "tsx", "ops/db-backup.ts"]), "--out", out];
    // The image's PG_DUMP is PostgreSQL 16's (the RDS major); this machine's server and client are 15.
    const env = { ...imageEnv(tree), DATABASE_URL: db.url, PG_DUMP: "/usr/bin/pg_dump" };
    const proc = startProcess(argv[0]!, argv.slice(1), { env, cwd: tree.path("."), uid, gid });
    running.push(proc);
    const code = await new Promise<number | null>((resolve) => proc.child.once("exit", (c) => resolve(c)));
    expect(code, proc.output()).toBe(0);
    const line = JSON.parse(proc.output().trim().split("\n").pop()!) as { location: string; bytes: number; sha256: string };
    expect(line.location.startsWith(out)).toBe(true);
    expect(line.bytes).toBeGreaterThan(0);
    expect(readdirSync(out).some((f) => f.endsWith(".dump"))).toBe(true);
    expect(writtenOutsideTmp(tree)).toEqual([]);
  }, 120_000);

  it("lists its commands as its default CMD", async () => {
    const tree = trees.ops;
    const argv = containerArgv(tree.df);
    const proc = startProcess(argv[0]!, argv.slice(1), { env: imageEnv(tree), cwd: tree.path("."), uid, gid });
    running.push(proc);
    const code = await new Promise<number | null>((resolve) => proc.child.once("exit", (c) => resolve(c)));
    expect(code, proc.output()).toBe(0);
    expect(proc.output()).toMatch(/migrate\s+npx prisma migrate deploy/);
  }, 60_000);

  it.each(["app", "ops"] as const)("resolves the Prisma CLI offline with npx in the %s image, from its own config and schema", async (name) => {
    const tree = trees[name];
    // The schema engine is downloaded at build time, which no machine here can do: `validate`
    // only needs a path that exists (as scripts/prisma-generate.mjs does for `generate`).
    const env = { ...imageEnv(tree), PRISMA_SCHEMA_ENGINE_BINARY: process.execPath };
    const proc = startProcess("npx", ["prisma", "validate"], { env, cwd: tree.path("."), uid, gid });
    running.push(proc);
    const code = await new Promise<number | null>((resolve) => proc.child.once("exit", (c) => resolve(c)));
    expect(code, proc.output()).toBe(0);
    expect(proc.output()).toMatch(/Loaded Prisma config from prisma\.config\.ts[\s\S]*The schema at prisma\/schema\.prisma is valid/);
    expect(writtenOutsideTmp(tree)).toEqual([]);
  }, 60_000);
});
