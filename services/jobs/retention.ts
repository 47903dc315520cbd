/**
 * The end of a job's life: completed rows are kept for their type's retention
 * (JOB_RETENTION_DAYS, default 7; JOB_RETENTION_DAYS_BY_TYPE per type), then removed, so the
 * jobs table holds days of history instead of every job ever run. Removal goes in batches of
 * JOB_RETENTION_BATCH rows, each its own short DELETE (row locks on those rows only, skipping
 * rows another process holds), oldest first through the (status, type, created_at, id) index,
 * with a pause between batches so the hot path keeps the database. A pass does a bounded
 * number of batches per type and the scheduler comes back on its interval; if the table
 * outgrows what the passes remove, `jobs_retention_overdue_seconds` grows and
 * JobRetentionFallingBehind fires. Only `completed` rows are touched: dead ones go to the
 * archive (never deleted), failed ones are still retrying.
 */
import { performance } from "node:perf_hooks";
import type { Config } from "../config.js";
import type { JobStore } from "./job-store.js";
import { JOB_TYPES, type JobType } from "./types.js";

export const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  readonly defaultDays: number;
  readonly byType: Partial<Record<JobType, number>>;
  /** Rows per DELETE. */
  readonly batch: number;
}

/** Seven days for every type, in batches of 1,000 (the production defaults). */
export const DEFAULT_RETENTION: RetentionPolicy = { defaultDays: 7, byType: {}, batch: 1000 };

export function retentionPolicy(config: Pick<Config, "JOB_RETENTION_DAYS" | "JOB_RETENTION_DAYS_BY_TYPE" | "JOB_RETENTION_BATCH">): RetentionPolicy {
  return { defaultDays: config.JOB_RETENTION_DAYS, byType: config.JOB_RETENTION_DAYS_BY_TYPE, batch: config.JOB_RETENTION_BATCH };
}

export function retentionMs(policy: RetentionPolicy, type: JobType): number {
  return (policy.byType[type] ?? policy.defaultDays) * DAY_MS;
}

export interface RetentionPass {
  removed: Record<JobType, number>;
  batches: number;
  /** The longest single DELETE, in ms: how long its row locks were held. */
  longestBatchMs: number;
  /** False when a type still had rows past its retention when the pass stopped. */
  caughtUp: boolean;
}

export interface RetentionPassOptions {
  types?: readonly JobType[];
  /** Batches per type in one pass (the scheduler's bound; Infinity drains). */
  maxBatchesPerType?: number;
  /** Pause between batches, in ms. */
  pauseMs?: number;
  /** Called after each batch that removed rows (the scheduler counts them as they go). */
  onRemoved?: (type: JobType, n: number) => void;
}

/** One retention pass: removes completed jobs past their type's retention, batch by batch. */
export async function removeCompletedJobs(store: JobStore, policy: RetentionPolicy, now: Date, opts: RetentionPassOptions = {}): Promise<RetentionPass> {
  const pass: RetentionPass = { removed: Object.fromEntries(JOB_TYPES.map((t) => [t, 0])) as Record<JobType, number>, batches: 0, longestBatchMs: 0, caughtUp: true };
  const maxBatches = opts.maxBatchesPerType ?? 50;
  for (const type of opts.types ?? JOB_TYPES) {
    const cutoff = new Date(now.getTime() - retentionMs(policy, type));
    for (let i = 0; ; i++) {
      if (i >= maxBatches) {
        pass.caughtUp = false;
        break;
      }
      const t0 = performance.now();
      const n = await store.deleteCompleted(type, cutoff, policy.batch);
      pass.longestBatchMs = Math.max(pass.longestBatchMs, performance.now() - t0);
      pass.batches++;
      pass.removed[type] += n;
      if (n > 0) opts.onRemoved?.(type, n);
      if (n < policy.batch) break;
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  }
  return pass;
}

/** How far past its retention the oldest completed job of each type is, in seconds (0: none). */
export async function retentionOverdue(store: JobStore, policy: RetentionPolicy, now: Date, types: readonly JobType[] = JOB_TYPES): Promise<Map<JobType, number>> {
  const oldest = await store.oldestCompleted(types);
  return new Map(
    types.map((t) => {
      const at = oldest.get(t);
      return [t, at ? Math.max(0, (now.getTime() - at.getTime() - retentionMs(policy, t)) / 1000) : 0];
    }),
  );
}
