/**
 * Composition of the job engine for services/main.ts: the engine, its HTTP routers (job
 * state, dead-job administration) and its schedulers (archiver, stuck-job detector).
 */
import type { Router } from "express";
import type { Connection } from "rabbitmq-client";
import { deadJobsAdminRouter } from "../api/routes/admin-dead-jobs.js";
import { jobsRouter } from "../api/routes/jobs.js";
import type { Config } from "../config.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";
import type { MetricsRegistry } from "../metrics-registry.js";
import { JobEngine, jobEngineConfig, type JobEngineConfig } from "./engine.js";
import type { DeadJobPolicy } from "./job-queries.js";
import { JobSchedulers } from "./schedulers.js";

export interface JobSystemDeps {
  config: Config;
  db: Database;
  broker: Connection;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: () => Date;
  /** Tests shrink delays and pick a namespace here. */
  engineConfig?: Partial<JobEngineConfig>;
  /** What a dead-job retry or discard does beyond the job (the pipeline's products). */
  deadJobPolicy?: DeadJobPolicy;
}

export interface JobSystem {
  engine: JobEngine;
  routers: Router[];
  /** Declares the topology and starts the outbox relay (engine.start()). */
  start(): Promise<void>;
  startSchedulers(): void;
  /** Stops the schedulers and the engine (within the deadline); connections stay open. */
  stop(deadlineMs?: number): Promise<void>;
}

export function createJobSystem(deps: JobSystemDeps): JobSystem {
  const { config, db, logger, clock } = deps;
  const engine = new JobEngine({ db, broker: deps.broker, logger, metrics: deps.metrics, clock, config: jobEngineConfig(config, deps.engineConfig) });
  const schedulers = new JobSchedulers({
    engine,
    logger,
    clock,
    archiveIntervalMs: config.DEAD_JOB_ARCHIVE_INTERVAL_MS,
    retentionDays: config.DEAD_JOB_RETENTION_DAYS,
    stuckCheckIntervalMs: config.JOB_STUCK_CHECK_INTERVAL_MS,
    retentionIntervalMs: config.JOB_RETENTION_INTERVAL_MS,
  });
  return {
    engine,
    routers: [
      jobsRouter({ db, tokens: [...config.API_TOKENS, ...config.ADMIN_TOKENS] }),
      deadJobsAdminRouter({ db, engine, adminTokens: config.ADMIN_TOKENS, clock, policy: deps.deadJobPolicy }),
    ],
    start: () => engine.start(),
    startSchedulers: () => schedulers.start(),
    stop: async (deadlineMs) => {
      await schedulers.stop();
      await engine.stop(deadlineMs);
    },
  };
}
