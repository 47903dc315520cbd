/**
 * A CronJob on one machine: runs a committed command (an OPS_COMMANDS entry) every interval, one
 * run at a time (production's concurrencyPolicy: Forbid), each run a Job named `<cronjob>-<n>`
 * whose outcome is the command's exit status. ClusterStateExporter reports the runs as
 * kube-state-metrics does, so the backup alerts watch real runs of the real command.
 */
import { join } from "node:path";
import type { CronJobRun } from "./cluster-state.js";
import { spawnGroup, type ManagedProcess } from "./process-group.js";

export interface LocalCronJobOptions {
  readonly name: string;
  /** The container command, e.g. OPS_COMMANDS.dbBackup, then its arguments. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly intervalMs: number;
  /** A run that takes longer is killed and fails (production's activeDeadlineSeconds). */
  readonly deadlineMs: number;
  readonly logDir: string;
  /** Called with every process group it starts (so the platform's stop can reap it). */
  readonly onSpawn?: (pid: number) => void;
}

export class LocalCronJob {
  readonly createdAt = Date.now();
  private readonly history: CronJobRun[] = [];
  private timer?: NodeJS.Timeout;
  private current?: ManagedProcess;
  private runs = 0;

  constructor(private readonly opts: LocalCronJobOptions) {}

  get name(): string {
    return this.opts.name;
  }

  /** The runs so far, oldest first. */
  get jobs(): readonly CronJobRun[] {
    return this.history;
  }

  /** Runs once now (resolving with that run), then every interval. */
  async start(): Promise<CronJobRun> {
    const first = await this.runOnce();
    this.timer = setInterval(() => void this.runOnce().catch(() => undefined), this.opts.intervalMs);
    this.timer.unref();
    return first;
  }

  /** One run, unless one is still going (Forbid skips it: then it resolves with the last finished run). */
  async runOnce(): Promise<CronJobRun> {
    if (this.current?.running()) return this.history.at(-1) ?? { jobName: `${this.opts.name}-0`, finishedAt: Date.now(), succeeded: false };
    const jobName = `${this.opts.name}-${++this.runs}`;
    const [cmd, ...args] = this.opts.command;
    const proc = spawnGroup(jobName, cmd === "node" ? process.execPath : cmd!, args, { cwd: this.opts.cwd, env: this.opts.env, logFile: join(this.opts.logDir, `${this.opts.name}.log`) });
    this.opts.onSpawn?.(proc.pid);
    this.current = proc;
    const deadline = setTimeout(() => void proc.stop({ signal: "SIGKILL", graceMs: 0 }), this.opts.deadlineMs);
    const code = await proc.exited;
    clearTimeout(deadline);
    const run: CronJobRun = { jobName, finishedAt: Date.now(), succeeded: code === 0 };
    this.history.push(run);
    // Enough history for the last success and the failed Jobs kube keeps; not the whole session.
    if (this.history.length > 50) this.history.shift();
    return run;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.current?.stop({ graceMs: 5_000 });
  }
}
