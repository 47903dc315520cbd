/**
 * Child processes of the local platform, each the leader of its own process group (spawned
 * detached), so stopping one stops everything it started: SIGTERM to the group, SIGKILL to the
 * group after a grace period, and a final SIGKILL to the group even after the leader exited.
 * Output goes to a log file and a short in-memory tail (shown when a start fails).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process has exited. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** The last 20 kB of output. */
  output(): string;
  /** SIGTERM (or the given signal) to the group, SIGKILL after graceMs; resolves once it exited. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Appends stdout and stderr here. */
  readonly logFile?: string;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Every group started here and not yet stopped; killed synchronously if this process exits. */
const live = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of live) signalGroup(pid, "SIGKILL");
  });
}

/**
 * For runners that may be killed from outside (a test worker): on SIGTERM, SIGINT or SIGHUP,
 * every live group is killed before this process exits. The CLI does not use it: it stops its
 * children gracefully on those signals itself.
 */
export function killGroupsOnSignals(): void {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.once(signal, () => {
      for (const pid of live) signalGroup(pid, "SIGKILL");
      process.exit(128 + (signal === "SIGHUP" ? 1 : signal === "SIGINT" ? 2 : 15));
    });
  }
}

export function spawnGroup(name: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  installExitHook();
  const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const pid = child.pid;
  live.add(pid);
  let tail = "";
  let log: WriteStream | undefined;
  if (opts.logFile) log = createWriteStream(opts.logFile, { flags: "a" });
  const onData = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-20_000);
    log?.write(d);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => {
      tail += `\n${name}: ${err.message}`;
    });
    child.once("close", (code, signal) => {
      exitedFlag = true;
      live.delete(pid);
      // Stragglers of the group (a grandchild) go with it.
      signalGroup(pid, "SIGKILL");
      log?.end();
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    name,
    pid,
    child,
    exited,
    running: () => !exitedFlag,
    output: () => tail,
    async stop({ signal = "SIGTERM", graceMs = 10_000 } = {}) {
      if (exitedFlag) return;
      signalGroup(pid, signal);
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Process ids of every live process in these groups (from /proc), to prove nothing is left. */
export async function processesInGroups(pgids: readonly number[]): Promise<{ pid: number; pgid: number; cmd: string }[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const wanted = new Set(pgids);
  const out: { pid: number; pgid: number; cmd: string }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ... ; comm may contain spaces, so split after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      const pgid = Number(fields[2]);
      if (wanted.has(pgid) && state !== "Z") out.push({ pid: Number(entry), pgid, cmd: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** CPU seconds (user + system) used so far by the live processes of these groups, from /proc. */
export async function cpuSecondsOfGroups(pgids: readonly number[]): Promise<number> {
  const { readdir, readFile } = await import("node:fs/promises");
  const wanted = new Set(pgids);
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      if (wanted.has(Number(f[2]))) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited while we looked
    }
  }
  return ticks / ticksPerSecond;
}

