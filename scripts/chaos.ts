/**
 * npm run chaos [-- --imports N --seed N --rate N --settle-timeout S]: imports through the real
 * pipeline while RabbitMQ drops out, a worker is killed, the database connections are terminated
 * and a stand-in answers 503; then checks that nothing was lost, duplicated or left stuck
 * (scripts/chaos/). Prints the seed, each fault with its offset, the dead jobs by reason and one
 * summary line; exits 1 on any loss, duplicate, stuck job or import without jobs.
 */
import { deadJobLine, failed, summaryLine } from "./chaos/checks.js";
import { CHAOS_USAGE, parseChaosArgs, type ChaosOptions } from "./chaos/options.js";
import { ChaosRun } from "./chaos/run.js";

async function main(): Promise<number> {
  let opts: ChaosOptions;
  try {
    opts = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${CHAOS_USAGE}`);
    return 2;
  }
  const log = (line: string) => console.log(line);
  const run = await ChaosRun.start({ ...opts, log });
  let stopping: Promise<unknown> | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stopping ??= run.stop().finally(() => process.exit(130));
    });
  }
  try {
    const report = await run.run();
    for (const [reason, n] of Object.entries(report.counts.deadByReason).sort((a, b) => b[1] - a[1])) console.log(`chaos: dead ${n} × ${reason}`);
    // Each dead job by itself when there are few (a 10,000-import run has about a hundred).
    if (report.counts.deadJobs.length <= 200) for (const d of report.counts.deadJobs) console.log(`chaos: ${deadJobLine(d)}`);
    for (const p of report.counts.problems) console.log(`chaos: problem: ${p}`);
    console.log(summaryLine(report.counts, report.settleS, report.faults.length));
    return failed(report.counts) ? 1 : 0;
  } finally {
    const leftovers = await run.stop();
    if (leftovers.length > 0) console.error(`chaos: still running: ${leftovers.map((p) => `${p.pid} ${p.cmd}`).join(", ")}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
