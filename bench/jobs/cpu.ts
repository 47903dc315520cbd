/**
 * CPU time of the processes a run involves, read from /proc/<pid>/stat (utime + stime, clock
 * ticks of 10 ms): this process (node), the broker and the database. The broker (RabbitMQ's
 * beam.smp) is shared with whoever else uses it on this machine; the database side counts
 * only the Postgres backends connected to the bench's own database, or our own redis-server.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICK_S = 0.01;

export function processCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch {
    return 0; // gone
  }
}

export function pidsOf(pattern: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", pattern]).toString().trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface CpuSources {
  broker: () => number[];
  database: () => Promise<number[]> | number[];
}

export interface CpuSplit {
  node: number;
  broker: number;
  database: number;
  /** Share of the whole machine's CPU time that was busy (every process, other users' too): 0..1. */
  machine?: number;
}

/** Busy and total jiffies of all CPUs, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU seconds spent between start() and stop(), per side. */
export class CpuMeter {
  private node0 = 0;
  private machine0 = machineTicks();
  private base = new Map<number, number>();

  constructor(private readonly sources: CpuSources) {}

  async start(): Promise<void> {
    const u = process.cpuUsage();
    this.node0 = (u.user + u.system) / 1e6;
    this.base.clear();
    this.machine0 = machineTicks();
    for (const pid of [...this.sources.broker(), ...(await this.sources.database())]) this.base.set(pid, processCpuSeconds(pid));
  }

  async stop(): Promise<CpuSplit> {
    const u = process.cpuUsage();
    const sum = (pids: number[]) => pids.reduce((s, pid) => s + Math.max(0, processCpuSeconds(pid) - (this.base.get(pid) ?? 0)), 0);
    const m = machineTicks();
    const machine = m.total > this.machine0.total ? (m.busy - this.machine0.busy) / (m.total - this.machine0.total) : undefined;
    return { node: (u.user + u.system) / 1e6 - this.node0, broker: sum(this.sources.broker()), database: sum(await this.sources.database()), machine };
  }
}
