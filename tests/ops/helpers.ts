/** Runs an ops command exactly as its CronJob does (OPS_COMMANDS), from the repository root. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { OPS_COMMANDS, type OpsCommand } from "../../ops/commands.js";

export const REPO_ROOT = join(import.meta.dirname, "../..");

export interface OpsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment the command sees: PATH and HOME from the test process, plus `env` (nothing else leaks in). */
export function runOps(command: OpsCommand, args: readonly string[], env: Record<string, string>, timeoutMs = 120_000): Promise<OpsRun> {
  const [bin, ...base] = OPS_COMMANDS[command];
  const inherited = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  return new Promise((resolve) => {
    execFile(bin === "node" ? process.execPath : bin!, [...base, ...args], { cwd: REPO_ROOT, env: { ...inherited, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last line of output that parses as a JSON object. */
export function lastJsonLine<T = Record<string, unknown>>(stdout: string): T {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no JSON line in:\n${stdout}`);
  return JSON.parse(line) as T;
}
