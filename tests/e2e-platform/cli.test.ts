/**
 * `npm run platform:local` as a newcomer runs it: it comes up, prints where to look, and Ctrl-C
 * (SIGINT to its process group, as a terminal sends it) stops every process it started — checked
 * in /proc afterwards, not taken from its own word.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { processesInGroups } from "../../scripts/local/process-group.js";
import { dropDatabase } from "../helpers/db.js";
import { waitFor } from "../helpers/wait.js";

let dir = "";
let cliPid: number | undefined;
const DB = `platform_cli_${process.pid}`;

afterAll(async () => {
  if (cliPid) {
    try {
      process.kill(-cliPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  await dropDatabase(DB);
});

it("starts the whole chain, prints the URLs, and Ctrl-C leaves nothing running", { timeout: 180_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), "platform-cli-"));
  const started = Date.now();
  const cli = spawn(process.execPath, ["--import", "tsx", "scripts/platform-local.ts"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PLATFORM_DIR: dir, PLATFORM_TRAFFIC_RATE: "2", PLATFORM_DB_NAME: DB, DATABASE_URL: "" },
  });
  cliPid = cli.pid;
  let out = "";
  cli.stdout.on("data", (d: Buffer) => (out += d.toString()));
  cli.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));

  await waitFor("the platform to be up", () => out.includes("Ctrl-C stops everything.") || (cli.exitCode !== null && Promise.reject(new Error(out))), 90_000, 200);
  const upSeconds = (Date.now() - started) / 1000;
  console.log(`platform:local up in ${upSeconds.toFixed(1)} s (measured from spawn)`);
  expect(upSeconds).toBeLessThan(60);

  const url = (label: string) => new RegExp(`${label}\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(out)?.[1];
  const receiver = url("Receiver \\(pages, Slack, email\\)");
  const prometheus = url("Prometheus");
  expect(receiver).toBeDefined();
  expect((await fetch(`${receiver}/api/received`)).ok).toBe(true);
  expect((await fetch(`${prometheus}/-/ready`)).ok).toBe(true);
  expect(out).toMatch(new RegExp(`Database\\s+Postgres, database ${DB}`));
  const pids = [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  expect(pids.length).toBeGreaterThanOrEqual(9);
  const before = await processesInGroups([cli.pid!, ...pids]);
  expect(before.length).toBeGreaterThanOrEqual(pids.length + 1);

  process.kill(-cli.pid!, "SIGINT");
  expect(await exited).toBe(0);
  cliPid = undefined;
  expect(out).toContain("stopped; nothing left running.");
  // Every process group it started (and the CLI's own) is empty.
  expect(await processesInGroups([cli.pid!, ...pids])).toEqual([]);
});
