/**
 * A private PostgreSQL server for the retention case: its own temporary cluster (initdb), a
 * free loopback port, and the memory the smallest environment's database has. The shared
 * test server runs Debian's defaults (shared_buffers 128 MB), less than a million-row jobs
 * table needs; production's RDS parameter group keeps RDS's default, a quarter of the
 * instance's memory. Stopped, and its directory removed, at the end.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { withPgClient } from "../../services/db/pg-session.js";
import { freePort, startProcess, type Running } from "../../tests/helpers/processes.js";
import { waitFor } from "../../tests/helpers/wait.js";

/**
 * dev's database (Pulumi.dev.yaml, rds.instanceClass db.t4g.medium: 4 GiB) gets RDS's default
 * shared_buffers, {DBInstanceClassMemory/32768} pages of 8 kB: a quarter of its memory. Staging
 * has the same class and prod's db.r6g.xlarge has 32 GiB, so this is the least any environment has.
 */
export const SMALLEST_ENVIRONMENT_SHARED_BUFFERS = "1GB";

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust auth on loopback). */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(a) - Number(b)).at(-1) : undefined;
  const dir = version ? join(root, version, "bin") : "";
  if (!dir || !existsSync(join(dir, "initdb"))) throw new Error("initdb not found under /usr/lib/postgresql/<version>/bin (Debian: apt-get install -y postgresql)");
  return dir;
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

export async function startPostgres(settings: Record<string, string> = { shared_buffers: SMALLEST_ENVIRONMENT_SHARED_BUFFERS }): Promise<PostgresServer> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), "bench-postgres-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  execFileSync(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], { uid: user?.uid, gid: user?.gid, stdio: "pipe" });
  const port = await freePort();
  const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
  for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
  const running: Running = startProcess(join(bin, "postgres"), args, { uid: user?.uid, gid: user?.gid });
  const stop = async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor("private postgres ready", () => running.output().includes("ready to accept connections"), 30_000, 50);
    await withPgClient(adminUrl, (c) => c.query("SELECT 1"));
  } catch (err) {
    await stop();
    throw new Error(`private postgres did not start (as ${user ? "postgres" : userInfo().username}): ${running.output().slice(-500)}`, { cause: err });
  }
  return { adminUrl, stop };
}

/** A server's setting as it reports it (SHOW), e.g. "128MB". */
export async function showSetting(adminUrl: string, name: string): Promise<string> {
  return withPgClient(adminUrl, async (c) => String((await c.query(`SHOW ${name}`)).rows[0]?.[name] ?? "?"));
}
