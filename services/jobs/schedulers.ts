/**
 * Periodic maintenance: the dead-job archiver (dead longer than the retention goes to
 * archived_jobs, never deleted), the completed-job retention (retention.ts) and the stuck-job
 * detector. Safe to run in several processes: the SQL skips rows another process holds.
 */
import type { Logger } from "../logger.js";
import type { JobEngine } from "./engine.js";
import { DAY_MS, removeCompletedJobs } from "./retention.js";

export { DAY_MS };

export interface SchedulerOptions {
  readonly engine: JobEngine;
  readonly logger: Logger;
  readonly clock?: () => Date;
  /** DEAD_JOB_ARCHIVE_INTERVAL_MS */
  readonly archiveIntervalMs: number;
  /** DEAD_JOB_RETENTION_DAYS */
  readonly retentionDays: number;
  /** JOB_STUCK_CHECK_INTERVAL_MS */
  readonly stuckCheckIntervalMs: number;
  /** JOB_RETENTION_INTERVAL_MS (the policy itself is the engine's: JobEngineConfig.retention) */
  readonly retentionIntervalMs?: number;
}

/** One retention pass with the engine's policy; counts the removed rows per type. */
export async function retireCompletedJobs(engine: JobEngine, now: Date) {
  return removeCompletedJobs(engine.store, engine.retention, now, { pauseMs: 20, onRemoved: (type, n) => engine.metrics.retentionRemoved.inc({ type }, n) });
}

/** Archives dead jobs that died more than `retentionDays` before `now`; returns how many. */
export async function archiveDeadJobs(engine: JobEngine, now: Date, retentionDays: number): Promise<number> {
  const n = await engine.store.archiveDeadBefore(new Date(now.getTime() - retentionDays * DAY_MS), now);
  if (n > 0) engine.metrics.archived.inc(n);
  return n;
}

export class JobSchedulers {
  private timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly clock: () => Date;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? (() => new Date());
  }

  start(): void {
    if (this.timers.length > 0) return;
    this.every(this.opts.archiveIntervalMs, "dead-job archiver", async () => {
      const n = await archiveDeadJobs(this.opts.engine, this.clock(), this.opts.retentionDays);
      if (n > 0) this.opts.logger.info({ archived: n, retentionDays: this.opts.retentionDays }, "dead jobs archived");
    });
    if (this.opts.retentionIntervalMs) {
      this.every(this.opts.retentionIntervalMs, "completed-job retention", async () => {
        const pass = await retireCompletedJobs(this.opts.engine, this.clock());
        const removed = Object.values(pass.removed).reduce((a, b) => a + b, 0);
        if (removed > 0) this.opts.logger.info({ removed: pass.removed, batches: pass.batches, longestBatchMs: Math.round(pass.longestBatchMs), caughtUp: pass.caughtUp }, "completed jobs removed after their retention");
      });
    }
    this.every(this.opts.stuckCheckIntervalMs, "stuck-job detector", () => this.opts.engine.recoverStuckJobs());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
  }

  private every(ms: number, name: string, task: () => Promise<unknown>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const p = task()
        .catch((err: unknown) => this.opts.logger.warn({ err }, `${name} failed; will run again`))
        .finally(() => {
          busy = false;
          this.running.delete(p);
        });
      this.running.add(p);
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
