/**
 * The four faults of a chaos run (issue 11), planned from the seed at random offsets within the
 * sending window and injected into a running LocalPlatform:
 *   broker-outage   the pipeline's AMQP connections are cut at the platform's own broker proxy
 *                   and new ones refused for a few seconds (the shared RabbitMQ is never touched);
 *   worker-kill     SIGKILL of one worker process, which is then started again (as Kubernetes
 *                   would: with backoff, while it exits before it is ready);
 *   db-terminate    pg_terminate_backend on every connection to the run's database (twice);
 *   standin-503     the translation or the store stand-in answers 503 for 20 seconds.
 */
import type { LocalPlatform } from "../local/platform.js";
import type { Random } from "./random.js";

export const FAULT_KINDS = ["broker-outage", "worker-kill", "db-terminate", "standin-503"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How often each kind is injected in one run. */
export const FAULT_COUNTS: Readonly<Record<FaultKind, number>> = { "broker-outage": 1, "worker-kill": 1, "db-terminate": 2, "standin-503": 1 };
export const STANDIN_OUTAGE_MS = 20_000;
export const BROKER_OUTAGE_MS = { min: 3_000, max: 10_000 } as const;
export const STANDINS = ["translate", "store"] as const;

export interface PlannedFault {
  readonly kind: FaultKind;
  /** Offset from the start of sending. */
  readonly atMs: number;
  /** worker-kill: the process; standin-503: the stand-in. */
  readonly target?: string;
  /** broker-outage and standin-503: how long it lasts. */
  readonly durationMs?: number;
}

/**
 * Every fault at a random offset between 10 % and 80 % of the sending window (so the pipeline
 * is busy when it strikes and has work left to recover with), in time order.
 */
export function planFaults(rng: Random, windowMs: number, workers: readonly string[]): PlannedFault[] {
  const at = () => Math.round(windowMs * (0.1 + 0.7 * rng.next()));
  const plan: PlannedFault[] = [];
  for (const kind of FAULT_KINDS) {
    for (let i = 0; i < FAULT_COUNTS[kind]; i++) {
      if (kind === "broker-outage") plan.push({ kind, atMs: at(), durationMs: rng.int(BROKER_OUTAGE_MS.min, BROKER_OUTAGE_MS.max) });
      else if (kind === "worker-kill") plan.push({ kind, atMs: at(), target: rng.pick(workers) });
      else if (kind === "standin-503") plan.push({ kind, atMs: at(), target: rng.pick(STANDINS), durationMs: STANDIN_OUTAGE_MS });
      else plan.push({ kind, atMs: at() });
    }
  }
  return plan.sort((a, b) => a.atMs - b.atMs);
}

export const describeFault = (f: PlannedFault): string =>
  [f.kind, f.target, f.durationMs === undefined ? undefined : `${(f.durationMs / 1000).toFixed(1)}s`].filter(Boolean).join(" ");

/** Terminates every backend of the database except the caller's own; returns how many. */
export async function terminateBackends(platform: LocalPlatform): Promise<number> {
  const rows = await platform.query<{ n: string }>(
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    [platform.database.name],
  );
  return Number(rows[0]?.n ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often a killed process is started again when it exits before it is ready. */
export const WORKER_RESTARTS = 5;

/**
 * Starts a killed process again as Kubernetes restarts a crashed pod: a start that exits before
 * it is ready (its broker is still out, when the kill falls inside a broker outage) is tried
 * again after a growing pause, like CrashLoopBackOff.
 */
async function restartUntilReady(platform: LocalPlatform, name: string, log: (line: string) => void): Promise<void> {
  for (let start = 1; ; start++) {
    platform.startService(name);
    try {
      await platform.waitReady(name);
      return;
    } catch (err) {
      if (start >= WORKER_RESTARTS || platform.processes.get(name)?.running()) throw err;
      const why = ((err as Error).message.split("\n").find((l) => l.includes("not reachable")) ?? (err as Error).message.split("\n")[0]!).slice(0, 200);
      log(`worker-kill: ${name} exited before it was ready (${why}); starting it again in ${start} s`);
      await sleep(start * 1000);
    }
  }
}

/** Injects one fault and resolves when it is over (the broker back, the worker ready again). */
export async function injectFault(platform: LocalPlatform, fault: PlannedFault, log: (line: string) => void): Promise<void> {
  switch (fault.kind) {
    case "broker-outage":
      await platform.cutBroker();
      await sleep(fault.durationMs!);
      await platform.restoreBroker();
      log("broker-outage over: the broker proxy accepts connections again");
      return;
    case "worker-kill": {
      const name = fault.target!;
      const pid = platform.processes.get(name)?.pid;
      await platform.stopService(name, "SIGKILL");
      log(`worker-kill: ${name} (pid ${pid}) killed; restarting`);
      await restartUntilReady(platform, name, log);
      log(`worker-kill: ${name} ready again (pid ${platform.processes.get(name)?.pid})`);
      return;
    }
    case "db-terminate":
      log(`db-terminate: ${await terminateBackends(platform)} backends terminated`);
      return;
    case "standin-503": {
      const standin = fault.target === "store" ? platform.store : platform.translate;
      standin.faults.unavailableFor(fault.durationMs!);
      await sleep(fault.durationMs!);
      log(`standin-503 over: ${fault.target} answers normally again`);
      return;
    }
  }
}
