/** Starting and stopping the processes end-to-end tests run (Prometheus, Alertmanager, `npm start`), on free ports. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface Running {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Run in a process group of its own and stop the whole group: for commands that start
   * others (`bash -c "npm start"` runs npm, a shell and node), so that none outlives the test.
   */
  readonly group?: boolean;
  /** Run as this user and group (the test runs as root): an image's non-root uid. */
  readonly uid?: number;
  readonly gid?: number;
}

export function startProcess(cmd: string, args: string[], opts: StartOptions = {}): Running {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env, cwd: opts.cwd, detached: opts.group ?? false, uid: opts.uid, gid: opts.gid });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (opts.group) {
    return { child, output: () => out, stop: () => stopGroup(child.pid!) };
  }
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** SIGTERM to every process of the group, SIGKILL to what is left after the grace; returns once none is left. */
async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  const signal = (s: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pgid, s);
      return true;
    } catch {
      return false; // ESRCH: the group is empty
    }
  };
  if (!signal("SIGTERM")) return;
  const end = Date.now() + graceMs;
  while (signal(0)) {
    if (Date.now() > end) signal("SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
  }
}
