/**
 * One chaos run (issue 11): the real pipeline as separate processes on a Postgres database of its
 * own and RabbitMQ under a queue namespace of its own (LocalPlatform without monitoring, with its
 * own broker proxy), imports sent through the API at a steady rate, a reviewer approving what
 * reaches review, the seeded faults injected while the imports flow, then the wait for the
 * pipeline to settle and the checks (checks.ts). `npm run chaos` and the e2e test both run this.
 */
import { randomBytes } from "node:crypto";
import { LocalPlatform, POSTGRES_PROCESSES } from "../local/platform.js";
import { checkChaosRun, openWork, type ChaosCounts } from "./checks.js";
import { describeFault, injectFault, planFaults, type PlannedFault } from "./faults.js";
import { Reviewer, sendImports, type AcknowledgedImport, type SendResult } from "./load.js";
import type { ChaosOptions } from "./options.js";
import { seededRandom } from "./random.js";

/**
 * The pipeline's settings for the run: pushes follow approval, and the stuck-job detector runs on
 * a chaos time scale (a job left `processing` by a killed worker is requeued within about a
 * minute, not the production 6) so the run settles in bounded time.
 */
export const CHAOS_SERVICE_ENV = {
  AUTO_PUSH_ON_APPROVE: "true",
  JOB_TIMEOUT_MS: "60000",
  JOB_STUCK_GRACE_MS: "10000",
  JOB_STUCK_CHECK_INTERVAL_MS: "5000",
  LOG_LEVEL: "warn",
} as const;

/** The worker processes a worker-kill may hit. */
export const WORKER_PROCESSES = POSTGRES_PROCESSES.filter((s) => s.roles === "workers").map((s) => s.name);

export interface ChaosRunOptions extends ChaosOptions {
  /** Inject the planned faults (default true). */
  readonly faults?: boolean;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly counts: ChaosCounts;
  readonly send: SendResult;
  readonly approved: number;
  readonly faults: readonly PlannedFault[];
  readonly settleS: number;
  readonly settled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ChaosRun {
  acknowledged: AcknowledgedImport[] = [];

  private constructor(
    readonly platform: LocalPlatform,
    private readonly opts: ChaosRunOptions,
  ) {}

  static async start(opts: ChaosRunOptions): Promise<ChaosRun> {
    const platform = await LocalPlatform.start({
      monitoring: false,
      brokerProxy: true,
      ports: "free",
      requirePostgres: true,
      databaseName: `chaos_${randomBytes(4).toString("hex")}`,
      dropDatabaseOnStop: true,
      trafficRate: 0,
      importEveryMs: 0,
      logLevel: CHAOS_SERVICE_ENV.LOG_LEVEL,
      serviceEnv: CHAOS_SERVICE_ENV,
      log: opts.log,
    });
    return new ChaosRun(platform, opts);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /** Sends, injects, settles and checks. */
  async run(): Promise<ChaosReport> {
    const { imports, rate, seed } = this.opts;
    const rng = seededRandom(seed);
    const windowMs = (imports / rate) * 1000;
    const faults = this.opts.faults === false ? [] : planFaults(rng, windowMs, WORKER_PROCESSES);
    this.log(`chaos: seed=${seed} imports=${imports} rate=${rate}/s database=${this.platform.database.name} namespace=${this.platform.queueNamespace}`);
    for (const f of faults) this.log(`chaos: planned +${(f.atMs / 1000).toFixed(1)}s ${describeFault(f)}`);

    const reviewer = new Reviewer(this.platform);
    reviewer.start();
    const started = Date.now();
    const offset = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;
    const injections = faults.map(async (f) => {
      await sleep(f.atMs);
      this.log(`chaos: ${offset()} fault ${describeFault(f)}`);
      await injectFault(this.platform, f, (l) => this.log(`chaos: ${offset()} ${l}`));
    });
    const injected = Promise.allSettled(injections);
    // The sender's products are numbered from a run id, so a second run() on the platform adds new ones.
    const send = await sendImports(this.platform, { count: imports, rate, rng: seededRandom(seed + 1), runId: `chaos-${randomBytes(3).toString("hex")}` });
    this.acknowledged.push(...send.acknowledged);
    this.log(`chaos: ${offset()} sent ${send.acknowledged.length} imports (${send.retries} requests retried, ${send.refused} refused)`);
    const outcomes = await injected;
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failures.length > 0) throw new Error(`a fault could not be injected: ${failures.map((f) => (f.reason as Error).message).join("; ")}`);

    const sentAt = Date.now();
    const settled = await this.settle();
    const settleS = (Date.now() - sentAt) / 1000;
    await reviewer.stop();
    this.log(`chaos: ${offset()} ${settled ? "settled" : "did not settle"} after ${settleS.toFixed(1)}s; ${reviewer.approved} approvals`);
    return { counts: await this.check(), send, approved: reviewer.approved, faults, settleS, settled };
  }

  /** Waits until no job and no product is owed work, twice in a row; false on the timeout. */
  private async settle(): Promise<boolean> {
    const end = Date.now() + this.opts.settleTimeoutMs;
    const query = this.platform.query.bind(this.platform);
    let clean = 0;
    let lastLog = 0;
    while (Date.now() < end) {
      const open = await openWork(query).catch(() => undefined);
      if (open && open.jobs === 0 && open.products === 0) {
        if (++clean >= 2) return true;
      } else clean = 0;
      if (open && Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        this.log(`chaos: settling: ${open.jobs} jobs and ${open.products} products still owed work`);
      }
      await sleep(1000);
    }
    return false;
  }

  check(): Promise<ChaosCounts> {
    return checkChaosRun({ query: this.platform.query.bind(this.platform), acknowledged: this.acknowledged, storeWrites: this.platform.store.writesByExternalId });
  }

  /** Stops every process, drops the database and deletes the queues; returns leftovers (none, or a bug). */
  async stop(): Promise<{ pid: number; cmd: string }[]> {
    return (await this.platform.stop()).leftovers;
  }
}
