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
}

/** CPU seconds spent between start() and stop(), per side. */
export class CpuMeter {
  private node0 = 0;
  private base = new Map<number, number>();

  constructor(private readonly sources: CpuSources) {}

  async start(): Promise<void> {
    const u = process.cpuUsage();
    this.node0 = (u.user + u.system) / 1e6;
    this.base.clear();
    for (const pid of [...this.sources.broker(), ...(await this.sources.database())]) this.base.set(pid, processCpuSeconds(pid));
  }

  async stop(): Promise<CpuSplit> {
    const u = process.cpuUsage();
    const sum = (pids: number[]) => pids.reduce((s, pid) => s + Math.max(0, processCpuSeconds(pid) - (this.base.get(pid) ?? 0)), 0);
    return { node: (u.user + u.system) / 1e6 - this.node0, broker: sum(this.sources.broker()), database: sum(await this.sources.database()) };
  }
}
