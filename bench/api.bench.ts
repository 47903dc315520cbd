/**
 * `npm run bench:api`: the API under load (autocannon) on a read endpoint (GET /v1/products/:id)
 * and a write endpoint (POST /v1/imports, which writes the import, its item and the job row and
 * publishes to RabbitMQ with confirms), with the metrics and request-logging middleware on and
 * off, in the same run. Both variants are built by services/platform.ts in one server process
 * (API role only, no workers); autocannon runs in this process. Rounds alternate off/on so
 * drift hits both. Logs go through pino to a sonic-boom destination on /dev/null, as
 * production's would go to stdout. Prints req/s, p50/p99, server CPU per request and the
 * on/off ratios; target: the middleware costs at most 10% of throughput. On a shared machine
 * req/s swings with the neighbours' load, so the verdict uses the server process's CPU time
 * per request (throughput of a CPU-bound server is its inverse).
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import autocannon from "autocannon";
import { pino } from "pino";
import { connectBroker } from "../services/broker.js";
import { loadConfig } from "../services/config.js";
import { openDatabase } from "../services/db/client.js";
import { uuidv7 } from "../services/pipeline/ids.js";
import { MetricsRegistry } from "../services/metrics-registry.js";
import { createPlatform, type Platform } from "../services/platform.js";
import { createTestDatabase } from "../tests/helpers/db.js";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const DURATION = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TOKEN = "bench-token";

type Mode = "on" | "off";
interface ChildInit {
  databaseUrl: string;
  namespace: string;
}

// ------------------------------------------------------------------ server process
/**
 * One server process hosts both variants on two ports, sharing the database pool, the broker
 * connection and the JIT state, so the only difference between them is the middleware.
 */
async function serve(init: ChildInit): Promise<void> {
  const logger = pino({ level: "info", base: { service: "bench" } }, pino.destination({ dest: "/dev/null", sync: false, minLength: 4096 }));
  const metrics = new MetricsRegistry({ defaultMetrics: true });
  const config = loadConfig({ ...process.env, DATABASE_URL: init.databaseUrl, API_TOKENS: TOKEN, RATE_LIMIT_PER_MINUTE: "100000000", ROLES: "api", LOG_LEVEL: "info" });
  const db = await openDatabase({ databaseUrl: init.databaseUrl, poolMax: 10, metrics });
  const broker = await connectBroker({ url: AMQP_URL, connectionName: "bench-api", connectTimeoutMs: 5000, logger });
  const ports: Record<string, number> = {};
  const platforms: Platform[] = [];
  for (const mode of ["off", "on"] as const) {
    const on = mode === "on";
    const platform = createPlatform({ config, logger, metrics, db, broker, engineConfig: { namespace: init.namespace }, app: { httpMetrics: on, requestLogging: on } });
    await platform.start();
    ports[mode] = ((await platform.listen(0, "127.0.0.1")).address() as { port: number }).port;
    platforms.push(platform);
  }
  process.send!(ports);
  process.on("message", async (m: { cmd: string }) => {
    if (m.cmd === "cpu") {
      const u = process.cpuUsage();
      process.send!({ cpuMicros: u.user + u.system });
      return;
    }
    if (m.cmd !== "stop") return;
    for (const p of platforms) await p.stop(1000);
    await platforms[0]!.jobs.engine.deleteTopology().catch(() => undefined);
    await broker.close();
    await db.close();
    process.exit(0);
  });
}

// ------------------------------------------------------------------ load generator
interface Result {
  rps: number;
  /** Server-process CPU per request, in microseconds: insensitive to a busy neighbour. */
  cpuPerReq: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, opts: { method: "GET" | "POST"; body?: () => string }): Promise<Result> {
  const r = await autocannon({
    url,
    method: opts.method,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    requests: opts.body ? [{ setupRequest: (req) => ({ ...req, body: opts.body!() }) }] : undefined,
  });
  return { rps: r.requests.average, cpuPerReq: 0, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: { cpuMicros?: number }) => {
      if (m.cpuMicros === undefined) return;
      child.off("message", onMessage);
      resolve(m.cpuMicros);
    };
    child.on("message", onMessage);
    child.send({ cmd: "cpu" });
  });
}

function startChild(init: ChildInit): Promise<{ child: ChildProcess; ports: Record<Mode, number> }> {
  return new Promise((resolve, reject) => {
    const child = fork(import.meta.filename, [], { env: { ...process.env, BENCH_CHILD: JSON.stringify(init) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (ports: Record<Mode, number>) => resolve({ child, ports }));
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => x.toFixed(1)).join(" ");
  const testDb = await createTestDatabase("bench_api");
  const namespace = `bench.api.${process.pid}.${randomBytes(3).toString("hex")}.`;
  // Products to read: a realistic detail page with translations, images and history.
  const db = await openDatabase({ databaseUrl: testDb.url });
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const id = uuidv7();
    ids.push(id);
    await db.prisma.product.create({
      data: {
        id,
        sourceUrl: `https://shop.example.com/p/${i}`,
        status: "in_review",
        title: `Product ${i}`,
        description: "A fine product. ".repeat(20),
        price: "19.99",
        currency: "EUR",
        translations: { create: ["de", "fr"].map((language) => ({ language, title: `[${language}] Product ${i}`, description: "…", provider: "bench" })) },
        images: { create: [0, 1].map((position) => ({ id: uuidv7(), position, sourceUrl: `https://shop.example.com/i/${i}-${position}.jpg`, width: 1200, height: 800, format: "jpeg", checksum: "0".repeat(64), variants: [{ name: "thumb" }] })) },
        events: { create: [{ fromStatus: null, toStatus: "imported", actor: "bench" }, { fromStatus: "imported", toStatus: "translating", actor: "bench" }] },
      },
    });
  }
  await db.close();

  const server = await startChild({ databaseUrl: testDb.url, namespace });
  let seq = 0;
  const endpoints = {
    "GET /v1/products/:id": (port: number) => load(`http://127.0.0.1:${port}/v1/products/${ids[seq++ % ids.length]}`, { method: "GET" }),
    "POST /v1/imports": (port: number) =>
      load(`http://127.0.0.1:${port}/v1/imports`, { method: "POST", body: () => JSON.stringify({ sourceUrl: `https://shop.example.com/new/${seq++}` }) }),
  } as const;

  const results: Record<string, Record<Mode, Result[]>> = {};
  try {
    for (const [name, run] of Object.entries(endpoints)) {
      results[name] = { on: [], off: [] };
      // warm-up (JIT, pools, prepared statements) on both
      for (const mode of ["off", "on"] as const) await run(server.ports[mode]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
          const cpuBefore = await serverCpu(server.child);
          const r = await run(server.ports[mode]);
          r.cpuPerReq = ((await serverCpu(server.child)) - cpuBefore) / Math.max(1, r.total);
          results[name]![mode].push(r);
          console.log(
            `  ${name.padEnd(22)} ${mode.padEnd(3)} round ${round + 1}: ${r.rps.toFixed(0)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  server CPU ${r.cpuPerReq.toFixed(0)} µs/req  errors ${r.errors}  non-2xx ${r.non2xx}`,
          );
        }
      }
    }
  } finally {
    server.child.send({ cmd: "stop" });
    await new Promise((r) => server.child.once("exit", r));
    await testDb.drop();
  }

  // Median over the alternating rounds: robust against a noisy neighbour during one round.
  const avg = (xs: Result[], k: keyof Result) => {
    const v = xs.map((x) => x[k]).sort((a, b) => a - b);
    const mid = Math.floor(v.length / 2);
    return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  };
  console.log(`\nAPI benchmark: ${CONNECTIONS} connections, ${DURATION}s x ${ROUNDS} alternating paired rounds per variant (medians), server in its own process, both variants in it`);
  console.log(`(${process.platform}, node ${process.version}, ${cpus().length} CPUs, load average before/after: ${loadBefore} / ${loadavg().map((x) => x.toFixed(1)).join(" ")})`);
  console.log("endpoint                 middleware   req/s     p50 ms   p99 ms   server CPU µs/req");
  let worst = 0;
  for (const [name, r] of Object.entries(results)) {
    for (const mode of ["off", "on"] as const) {
      console.log(`${name.padEnd(24)} ${mode.padEnd(12)} ${avg(r[mode], "rps").toFixed(0).padStart(7)}   ${avg(r[mode], "p50").toFixed(1).padStart(6)}   ${avg(r[mode], "p99").toFixed(1).padStart(6)}   ${avg(r[mode], "cpuPerReq").toFixed(0).padStart(8)}`);
    }
    // Paired: each round ran off and on back to back, so the neighbours' load is similar within
    // a pair; the median of the per-pair ratios is far steadier than a ratio of averages.
    const median = (v: number[]) => {
      const x = [...v].sort((a, b) => a - b);
      const m = Math.floor(x.length / 2);
      return x.length % 2 ? x[m]! : (x[m - 1]! + x[m]!) / 2;
    };
    const ratio = median(r.on.map((on, i) => on.rps / r.off[i]!.rps));
    const cpuRatio = median(r.on.map((on, i) => r.off[i]!.cpuPerReq / on.cpuPerReq));
    console.log(`${"".padEnd(24)} on/off req/s ratio ${ratio.toFixed(3)} (median of pairs): middleware cost ${((1 - ratio) * 100).toFixed(1)}% of throughput`);
    console.log(`${"".padEnd(24)} off/on server CPU per request ${cpuRatio.toFixed(3)} (median of pairs): middleware cost ${((1 - cpuRatio) * 100).toFixed(1)}% of CPU-bound throughput`);
    worst = Math.max(worst, 1 - cpuRatio);
    const bad = [...r.on, ...r.off].reduce((s, x) => s + x.errors + x.non2xx, 0);
    if (bad) console.log(`${"".padEnd(24)} WARNING: ${bad} errors/non-2xx responses`);
  }
  console.log(
    `\ntarget: middleware costs <= 10% of throughput -> ${worst <= 0.1 ? "met" : "NOT met"} (worst ${(worst * 100).toFixed(1)}%, judged on server CPU per request; ` +
      "the req/s ratio is printed too but swings with other load on the machine)",
  );
}

if (process.env.BENCH_CHILD) {
  serve(JSON.parse(process.env.BENCH_CHILD) as ChildInit).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
