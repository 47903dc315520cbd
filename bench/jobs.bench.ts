/**
 * `npm run bench:jobs`: the job engine against its peers, in one run on this machine.
 *
 *   peers      raw rabbitmq-client (publish with confirms, consume with ack: the ceiling), the
 *              engine, and BullMQ 6.7 on a private redis-server with appendfsync always; the
 *              same N no-op jobs of 100 bytes at concurrency 32. Enqueue as single calls with
 *              1,000 in flight and in bulk (500 a call, 4 calls in flight); process; CPU seconds
 *              of node, broker and database per 1,000 jobs (bulk enqueue + process), from /proc.
 *              Rounds alternate the systems so each sees the same neighbours; best round wins.
 *   latency    enqueue-to-completed p50/p99 under a steady 1,000 jobs/s offered load, after a
 *              warm-up of the same load that is not counted (every system starts cold: new
 *              connections, unplanned statements, unoptimized code); the cold figure is printed too.
 *   index      processing with the jobs table's previous index shape, (status, type), against
 *              the current (status, type, created_at, id): the write cost of the listing index.
 *   retention  processing with 1,000,000 old completed rows in the table against an empty
 *              table, then one retention pass over those rows (rows/s, longest batch): first
 *              on a private Postgres with the smallest environment's memory (the target),
 *              then on the shared test server (Debian's 128 MB of shared_buffers).
 *   scale      engine throughput at concurrency 1, 8, 32, 128 with 100 B and 10 KB payloads,
 *              and with a handler that awaits 5 ms.
 * The closing lines are `ratio engine/raw=<x>` and `ratio engine/bullmq=<y>` (processing).
 *
 * Flags: --quick (fewer jobs, one round, 100k old rows), --only=peers,latency,index,retention,scale.
 * Env: BENCH_JOBS (N, default 20000), BENCH_ROUNDS (3), BENCH_OLD_ROWS (1000000).
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { removeCompletedJobs } from "../services/jobs/retention.js";
import { PG_ADMIN_URL, createTestDatabase } from "../tests/helpers/db.js";
import { CpuMeter, type CpuSplit } from "./jobs/cpu.js";
import { fillOldRows } from "./jobs/old-rows.js";
import { showSetting, startPostgres } from "./jobs/postgres.js";
import { startRedis, type RedisServer } from "./jobs/redis.js";
import { BullSystem, EngineSystem, RawSystem, amqp, type JobSystem, type Workload } from "./jobs/systems.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const ONLY = new Set((args.find((a) => a.startsWith("--only="))?.slice(7) ?? "peers,latency,index,retention,scale").split(","));
const N = Number(process.env.BENCH_JOBS ?? (QUICK ? 5000 : 20_000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const OLD_ROWS = Number(process.env.BENCH_OLD_ROWS ?? (QUICK ? 100_000 : 1_000_000));
const CONCURRENCY = 32;
const PREFETCH = (c: number) => Math.min(2048, Math.max(64, c * 16));
const WINDOW = 1000;
const BULK = 500;
const BULK_PARALLEL = 4;
const LATENCY_RATE = 1000;
const LATENCY_SECONDS = QUICK ? 2 : 5;
/** Offered before the measured seconds, at the same rate, and not counted. */
const LATENCY_WARMUP_SECONDS = QUICK ? 1 : 2;
const ns = `bench.${process.pid}.${randomBytes(3).toString("hex")}.`;

/** 100 bytes as JSON; 10 KB of incompressible text (so TOAST compression cannot flatter anyone). */
const SMALL = { data: "x".repeat(88) };
const LARGE = { data: randomBytes(7500).toString("base64").slice(0, 9988) };
const NOOP: Workload = { concurrency: CONCURRENCY, prefetch: PREFETCH(CONCURRENCY) };

interface PeerFigures {
  single: number;
  bulk: number;
  process: number;
  cpu?: CpuSplit;
  p50?: number;
  p99?: number;
}

const rate = (n: number, ms: number) => (n * 1000) / ms;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
const fmtRate = (x: number | undefined) => (x === undefined ? "-" : Math.round(x).toLocaleString("en-US"));
const fmtMs = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));
const fmtCpu = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(3));
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One round of one system: single enqueue + process, bulk enqueue + process (CPU measured). */
async function peerRound(sys: JobSystem): Promise<PeerFigures> {
  const single = rate(N, await timed(() => sys.enqueueSingle(N, SMALL, WINDOW)));
  const p1 = rate(N, await timed(() => sys.process(N, NOOP)));
  const meter = new CpuMeter(sys.cpu);
  await meter.start();
  const bulk = rate(N, await timed(() => sys.enqueueBulk(N, SMALL, BULK, BULK_PARALLEL)));
  const p2 = rate(N, await timed(() => sys.process(N, NOOP)));
  const used = await meter.stop();
  const per1000 = (x: number) => (x * 1000) / N;
  return { single, bulk, process: Math.max(p1, p2), cpu: { node: per1000(used.node), broker: per1000(used.broker), database: per1000(used.database), machine: used.machine } };
}

function best(rs: PeerFigures[]): PeerFigures {
  const top = rs.reduce((a, b) => (b.process > a.process ? b : a));
  return { single: Math.max(...rs.map((r) => r.single)), bulk: Math.max(...rs.map((r) => r.bulk)), process: top.process, cpu: top.cpu };
}

async function main(): Promise<void> {
  const started = new Date();
  log(`bench:jobs  ${started.toISOString()}  ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB  load ${load()}`);
  log(`  ${N} no-op jobs of 100 B, concurrency ${CONCURRENCY}, prefetch ${PREFETCH(CONCURRENCY)}, ${ROUNDS} round(s); enqueue: single calls with ${WINDOW} in flight, bulk ${BULK} x ${BULK_PARALLEL}`);
  const conn = await amqp();
  let redis: RedisServer | undefined;
  const figures = new Map<string, PeerFigures>();
  const results: string[] = [];
  try {
    if (ONLY.has("peers") || ONLY.has("latency")) redis = await startRedis();
    const raw = await RawSystem.open(conn, ns);
    const bull = redis ? new BullSystem(redis.port, redis.pid, ns) : undefined;
    try {
      if (ONLY.has("peers")) {
        const rounds = new Map<string, PeerFigures[]>();
        for (let round = 1; round <= ROUNDS; round++) {
          for (const kind of ["raw", "engine", "bullmq"] as const) {
            let f: PeerFigures;
            if (kind === "raw") {
              await raw.reset();
              f = await peerRound(raw);
            } else if (kind === "bullmq") {
              await bull!.reset();
              f = await peerRound(bull!);
            } else {
              const engine = await EngineSystem.open(conn, ns);
              try {
                const s0 = engine.statements;
                f = await peerRound(engine);
                const counts = await engine.counts();
                if (counts.completed !== 2 * N) throw new Error(`expected ${2 * N} completed jobs, got ${JSON.stringify(counts)}`);
                if (round === 1) results.push(`engine statements per 1,000 jobs (enqueue single + bulk, process twice): ${(((engine.statements - s0) * 1000) / (2 * N)).toFixed(1)}`);
              } finally {
                await engine.close();
              }
            }
            rounds.set(kind, [...(rounds.get(kind) ?? []), f]);
            log(`  round ${round} ${kind.padEnd(7)} enqueue single ${fmtRate(f.single).padStart(7)}/s  bulk ${fmtRate(f.bulk).padStart(7)}/s  process ${fmtRate(f.process).padStart(7)}/s  (load ${load()})`);
          }
        }
        for (const [kind, rs] of rounds) figures.set(kind, best(rs));
      }
      if (ONLY.has("latency")) {
        for (const kind of ["raw", "engine", "bullmq"] as const) {
          const seconds = LATENCY_WARMUP_SECONDS + LATENCY_SECONDS;
          let all: number[];
          if (kind === "raw") {
            await raw.reset();
            all = await raw.latency(LATENCY_RATE, seconds, SMALL, NOOP);
          } else if (kind === "bullmq") {
            await bull!.reset();
            all = await bull!.latency(LATENCY_RATE, seconds, SMALL, NOOP);
          } else {
            const engine = await EngineSystem.open(conn, ns);
            try {
              all = await engine.latency(LATENCY_RATE, seconds, SMALL, NOOP);
            } finally {
              await engine.close();
            }
          }
          const warm = LATENCY_WARMUP_SECONDS * LATENCY_RATE;
          const cold = all.slice(0, warm);
          const lat = all.slice(warm);
          const f = figures.get(kind) ?? { single: NaN, bulk: NaN, process: NaN };
          figures.set(kind, { ...f, p50: percentile(lat, 50), p99: percentile(lat, 99) });
          log(
            `  latency ${kind.padEnd(7)} ${lat.length} jobs at ${LATENCY_RATE}/s: p50 ${fmtMs(percentile(lat, 50))} ms  p99 ${fmtMs(percentile(lat, 99))} ms  max ${fmtMs(Math.max(...lat))} ms` +
              `  (warm-up, first ${cold.length} jobs: p99 ${fmtMs(percentile(cold, 99))} ms  max ${fmtMs(Math.max(...cold))} ms)`,
          );
        }
      }
    } finally {
      await raw.close();
      await bull?.close();
    }
    if (figures.size > 0) printPeers(figures);
    if (ONLY.has("index")) results.push(await indexCase(conn));
    if (ONLY.has("retention")) results.push(...(await retentionCases(conn)));
    if (ONLY.has("scale")) results.push(...(await scaleCurve(conn)));
    for (const r of results) log(r);
    const e = figures.get("engine");
    const r = figures.get("raw");
    const b = figures.get("bullmq");
    if (e && r && b) {
      log(`done when: engine/raw process >= 60% (${pct(e.process, r.process)}); engine/bullmq process >= 1.0 (${(e.process / b.process).toFixed(2)}); enqueue single >= 75% of raw (${pct(e.single, r.single)}); p99 at 1,000/s <= 25 ms (${fmtMs(e.p99)} ms)`);
      log(`ratio engine/raw  enqueue ${pct(e.single, r.single)}   process ${pct(e.process, r.process)}   (floor 35%)`);
      log(`ratio engine/raw=${(e.process / r.process).toFixed(2)}`);
      log(`ratio engine/bullmq=${(e.process / b.process).toFixed(2)}`);
    }
    log(`load at the end ${load()}; ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
  } finally {
    await redis?.stop();
    await conn.close();
  }
}

function printPeers(figures: Map<string, PeerFigures>): void {
  const names: Record<string, string> = { raw: "raw rabbitmq-client", engine: "job engine", bullmq: "BullMQ 6.7 (AOF always)" };
  const brokers: Record<string, string> = { raw: "rabbitmq", engine: "rabbitmq", bullmq: "redis" };
  const dbs: Record<string, string> = { raw: "-", engine: "postgres", bullmq: "(redis)" };
  log("");
  log("| system | enqueue single (jobs/s) | enqueue bulk (jobs/s) | process (jobs/s) | p50 ms | p99 ms | CPU s / 1,000 jobs: node | broker | database | machine busy |");
  log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const kind of ["raw", "engine", "bullmq"]) {
    const f = figures.get(kind);
    if (!f) continue;
    const db = kind === "engine" ? fmtCpu(f.cpu?.database) : dbs[kind];
    log(
      `| ${names[kind]} | ${fmtRate(f.single)} | ${fmtRate(f.bulk)} | ${fmtRate(f.process)} | ${fmtMs(f.p50)} | ${fmtMs(f.p99)} | ${fmtCpu(f.cpu?.node)} | ${fmtCpu(f.cpu?.broker)} (${brokers[kind]}) | ${db}${kind === "engine" ? " (postgres)" : ""} | ${f.cpu?.machine === undefined ? "-" : `${(f.cpu.machine * 100).toFixed(0)}%`} |`,
    );
  }
  log("(CPU: bulk enqueue + process of the best round; rabbitmq is the shared server's beam.smp and includes other users' traffic; machine busy: share of both cores busy over that phase, everyone's load included)");
  log("");
}

/** Processing with the previous (status, type) index against the current listing-capable one. */
async function indexCase(conn: Awaited<ReturnType<typeof amqp>>): Promise<string> {
  const cur: number[] = [];
  const old: number[] = [];
  for (let round = 0; round < Math.max(1, ROUNDS - 1); round++) {
    for (const shape of ["current", "previous"] as const) {
      const engine = await EngineSystem.open(conn, ns);
      try {
        if (shape === "previous") {
          await engine.db.sql.exec(`DROP INDEX jobs_status_type_created_at_id_idx; CREATE INDEX jobs_status_type_idx ON jobs (status, type)`);
        }
        await engine.enqueueBulk(N, SMALL, BULK, BULK_PARALLEL);
        (shape === "current" ? cur : old).push(rate(N, await timed(() => engine.process(N, NOOP))));
      } finally {
        await engine.close();
      }
    }
  }
  return `index: process with (status, type, created_at, id) ${fmtRate(Math.max(...cur))}/s vs previous (status, type) ${fmtRate(Math.max(...old))}/s: ratio ${(Math.max(...cur) / Math.max(...old)).toFixed(2)}`;
}

/** The server's WAL insert position, and the WAL bytes written since one (every database's). */
async function walPosition(e: EngineSystem): Promise<string> {
  return (await e.db.sql.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn;
}
async function walBytesSince(e: EngineSystem, lsn: string): Promise<number> {
  return Number((await e.db.sql.query<{ n: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS n", [lsn])).rows[0]!.n);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmtBytes = (b: number) => (b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${Math.round(b)} B`);

/**
 * The retention case on a private server with the memory of the smallest environment's
 * database (the target), then on the shared test server, whose 128 MB of shared_buffers holds
 * less than the table: there every new row lands on an old page that is no longer cached.
 */
async function retentionCases(conn: Awaited<ReturnType<typeof amqp>>): Promise<string[]> {
  const server = await startPostgres();
  let sized: string[];
  try {
    sized = await retentionCase(conn, server.adminUrl, "private server sized as the smallest environment's RDS", true);
  } finally {
    await server.stop();
  }
  return [...sized, ...(await retentionCase(conn, PG_ADMIN_URL, "shared test server", false))];
}

async function retentionCase(conn: Awaited<ReturnType<typeof amqp>>, adminUrl: string, where: string, target: boolean): Promise<string[]> {
  const sharedBuffers = await showSetting(adminUrl, "shared_buffers");
  const full = await createTestDatabase("bench_old", adminUrl);
  try {
    const t0 = performance.now();
    await fillOldRows(full, OLD_ROWS, SMALL);
    const fillS = (performance.now() - t0) / 1000;
    const empty: number[] = [];
    const old: number[] = [];
    const emptyWal: number[] = [];
    const oldWal: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of ["empty", "old"] as const) {
        const engine = await EngineSystem.open(conn, ns, which === "old" ? { database: full, adminUrl } : { adminUrl });
        try {
          await engine.enqueueBulk(N, SMALL, BULK, BULK_PARALLEL);
          const lsn0 = await walPosition(engine);
          (which === "empty" ? empty : old).push(rate(N, await timed(() => engine.process(N, NOOP))));
          (which === "empty" ? emptyWal : oldWal).push((await walBytesSince(engine, lsn0)) / N);
          if (which === "old") {
            // The next round starts from the same table (vacuumed, as autovacuum would).
            await engine.db.sql.query("DELETE FROM jobs WHERE created_at > now() - interval '1 day'");
            await engine.db.sql.exec("VACUUM jobs");
          }
        } finally {
          await engine.close();
        }
      }
    }
    const e = Math.max(...empty);
    const o = Math.max(...old);
    // One retention pass over the old rows (7-day default: every one of them is past it).
    const engine = await EngineSystem.open(conn, ns, { database: full, adminUrl });
    let pass: Awaited<ReturnType<typeof removeCompletedJobs>>;
    let passMs: number;
    try {
      const tp = performance.now();
      pass = await removeCompletedJobs(engine.store, { defaultDays: 7, byType: {}, batch: 1000 }, new Date(), { maxBatchesPerType: Infinity });
      passMs = performance.now() - tp;
    } finally {
      await engine.close();
    }
    const removed = Object.values(pass.removed).reduce((s, x) => s + x, 0);
    return [
      `retention (${where}, shared_buffers ${sharedBuffers}): ${OLD_ROWS.toLocaleString("en-US")} old completed rows (filled in ${fillS.toFixed(0)} s): process ${fmtRate(o)}/s vs empty table ${fmtRate(e)}/s: ratio ${(o / e).toFixed(2)}${target ? " (target >= 0.90)" : ""}; WAL per job ${fmtBytes(median(oldWal))} vs ${fmtBytes(median(emptyWal))}${target ? "" : " (the whole server's WAL, other users' included)"}`,
      `retention pass (${where}): removed ${removed.toLocaleString("en-US")} rows in ${(passMs / 1000).toFixed(1)} s (${fmtRate(rate(removed, passMs))} rows/s), ${pass.batches} batches of <= 1,000, longest batch ${pass.longestBatchMs.toFixed(0)} ms`,
    ];
  } finally {
    await full.drop();
  }
}

async function scaleCurve(conn: Awaited<ReturnType<typeof amqp>>): Promise<string[]> {
  const out = ["", "scale curve (engine, jobs/s processed; in brackets the CPU of node / postgres backends / rabbitmq, in cores, and the whole machine's busy share):", "| handler | payload | c=1 | c=8 | c=32 | c=128 |", "| --- | --- | ---: | ---: | ---: | ---: |"];
  // The 5 ms handler times its own sleeps: how long a handler slot is really held, since a
  // timer fires late when the event loop is busy with the other 127 jobs' deliveries and writes.
  const slept = { ms: 0, n: 0 };
  const sleep5 = async () => {
    const t = performance.now();
    await new Promise<void>((r) => setTimeout(r, 5));
    slept.ms += performance.now() - t;
    slept.n++;
  };
  const cases = [
    { label: "no-op", payload: SMALL, size: "100 B", handler: undefined },
    { label: "no-op", payload: LARGE, size: "10 KB", handler: undefined },
    { label: "await 5 ms", payload: SMALL, size: "100 B", handler: sleep5 },
  ];
  const at128: Record<string, { rate: number; share: CpuSplit; ms: number; slept?: { ms: number; n: number }; loopDelayP50?: number }> = {};
  for (const c of cases) {
    const cells: string[] = [];
    for (const conc of [1, 8, 32, 128]) {
      // Enough jobs for about two seconds of work, at most N.
      const n = Math.min(N, c.handler ? Math.max(400, conc * 400) : conc === 1 ? Math.min(N, 4000) : N);
      const engine = await EngineSystem.open(conn, ns);
      try {
        await engine.enqueueBulk(n, c.payload, BULK, BULK_PARALLEL);
        const meter = new CpuMeter(engine.cpu);
        await meter.start();
        slept.ms = 0;
        slept.n = 0;
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const ms = await timed(() => engine.process(n, { concurrency: conc, prefetch: PREFETCH(conc), handler: c.handler }));
        loop.disable();
        const used = await meter.stop();
        const share = { node: (used.node * 1000) / ms, database: (used.database * 1000) / ms, broker: (used.broker * 1000) / ms, machine: used.machine };
        const r = rate(n, ms);
        if (conc === 128) at128[`${c.label} ${c.size}`] = { rate: r, share, ms, slept: c.handler ? { ...slept } : undefined, loopDelayP50: loop.percentile(50) / 1e6 };
        cells.push(`${fmtRate(r)} (${share.node.toFixed(2)}/${share.database.toFixed(2)}/${share.broker.toFixed(2)}, ${((share.machine ?? 0) * 100).toFixed(0)}%)`);
      } finally {
        await engine.close();
      }
    }
    out.push(`| ${c.label} | ${c.size} | ${cells.join(" | ")} |`);
  }
  const noop = at128["no-op 100 B"]!;
  const io = at128["await 5 ms 100 B"]!;
  const bound = Math.min(128 / 0.005, noop.rate);
  const [busiest, share] = (["node", "database", "broker"] as const).map((k) => [k, io.share[k]] as const).sort((a, b) => b[1] - a[1])[0]!;
  const machine = io.share.machine ?? 0;
  // What ran out first: the machine's CPUs (with everyone else's load), or one of our processes' single thread.
  // Handler slots: the share of the run the 128 slots spent inside a handler (its sleep as timed).
  const occupied = io.slept && io.slept.n > 0 ? io.slept.ms / (128 * io.ms) : 0;
  const meanSleep = io.slept && io.slept.n > 0 ? io.slept.ms / io.slept.n : 0;
  const slots = `the 128 handler slots (busy ${(occupied * 100).toFixed(0)}% of the run: a 5 ms sleep took ${meanSleep.toFixed(1)} ms on average, the event loop's delay p50 ${(io.loopDelayP50 ?? 0).toFixed(1)} ms)`;
  const saturated =
    occupied >= 0.9 ? slots : machine >= 0.9 ? `the machine's ${cpus().length} cores (${(machine * 100).toFixed(0)}% busy over the run, load ${load()})` : share >= 0.9 ? `${busiest} (${(share * 100).toFixed(0)}% of one core)` : `nothing at 90%: busiest ${busiest} at ${(share * 100).toFixed(0)}% of one core, machine ${(machine * 100).toFixed(0)}% busy, ${slots}`;
  out.push(`5 ms handler at c=128: ${fmtRate(io.rate)}/s = ${pct(io.rate, bound)} of min(25,600, no-op rate ${fmtRate(noop.rate)}) (target >= 80%); saturated first: ${saturated}`);
  return out;
}

await main();
