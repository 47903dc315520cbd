/**
 * Running the PostgreSQL client tools (pg_dump, pg_restore) on a connection URL without putting the
 * password on their command line (where `ps` would show it): it travels in PGPASSWORD.
 * PG_DUMP / PG_RESTORE override the binaries (a versioned path in the ops image, or a test's wrapper).
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";

export interface PgConnection {
  /** The URL without its password, for the tools' --dbname. */
  readonly dbname: string;
  readonly env: NodeJS.ProcessEnv;
}

export function pgConnection(url: string): PgConnection {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  return { dbname: u.toString(), env: password ? { ...process.env, PGPASSWORD: password } : { ...process.env } };
}

/** The database name in a postgres URL. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** A URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

export interface ToolExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

export interface RunningTool {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves when the process exited with 0; rejects with its stderr otherwise (or if it could not start). */
  readonly done: Promise<ToolExit>;
}

/** Starts a client tool; stdout is the caller's to consume. */
export function startTool(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): RunningTool {
  const child = spawn(bin, [...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8_000)));
  const done = new Promise<ToolExit>((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`${bin} could not be started: ${err.message}`)));
    child.once("close", (code, signal) => {
      const exit = { code, signal, stderr: stderr.trim() };
      if (code === 0) resolve(exit);
      else reject(new Error(`${bin} ${signal ? `was killed by ${signal}` : `exited with ${code}`}${exit.stderr ? `: ${exit.stderr}` : ""}`));
    });
  });
  // The caller may never await `done` when something else failed first.
  done.catch(() => undefined);
  return { child, done };
}

/** Runs a client tool to completion, collecting stdout. */
export async function runTool(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const t = startTool(bin, args, env);
  let out = "";
  t.child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  await t.done;
  return out;
}

export const pgDumpBin = (): string => process.env.PG_DUMP || "pg_dump";
export const pgRestoreBin = (): string => process.env.PG_RESTORE || "pg_restore";
