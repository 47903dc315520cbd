/**
 * A private redis-server for the BullMQ peer: its own temporary directory, a free loopback
 * port, and the durability BullMQ is compared at (append-only file, fsync on every write:
 * `appendonly yes`, `appendfsync always`). Stopped, and its directory removed, at the end.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, type Running } from "../../tests/helpers/processes.js";
import { waitFor } from "../../tests/helpers/wait.js";

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  try {
    execFileSync("redis-server", ["--version"]);
  } catch {
    throw new Error("redis-server is not installed (Debian: apt-get install -y redis-server); the BullMQ peer needs it");
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-redis-"));
  const port = await freePort();
  const running: Running = startProcess("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--appendonly", "yes", "--appendfsync", "always", "--save", "",
    "--protected-mode", "yes", "--daemonize", "no",
  ]);
  const stop = async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("redis-server ready", () => running.output().includes("Ready to accept connections"), 10_000, 20);
  } catch (err) {
    await stop();
    throw new Error(`redis-server did not start: ${running.output().slice(-500)}`, { cause: err });
  }
  return { port, pid: running.child.pid!, stop };
}
