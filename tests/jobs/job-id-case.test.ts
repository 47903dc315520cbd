/**
 * A job id is a uuid, and uuids are case-insensitive: Postgres takes one in any case and prints
 * it lowercase. The engine keeps every id in that canonical form from where it enters (a
 * caller's jobId, a message's id), because the store answers by the ids Postgres returns: a
 * claim, a written outcome and a new row are matched to the caller's id by string. Before, an
 * upper-case caller id was enqueued, but its fresh delivery's claim never matched its answer,
 * so the message was acknowledged as a duplicate and the job sat pending, never run.
 */
import { expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import { JobStore } from "../../services/jobs/job-store.js";
import { HEADERS, workQueue } from "../../services/jobs/topology.js";
import { jobsCompletedTotal } from "../../services/metrics.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { useHarness, jobRow, metricValue, waitFor, type Harness } from "./helpers.js";

const h = useHarness("job-id-case");

/** A started engine for import jobs whose handler records the job id of each run. */
async function runningEngine(overrides: Parameters<Harness["newEngine"]>[0] = {}, deps: Parameters<Harness["newEngine"]>[1] = {}) {
  const engine = h.newEngine({ types: ["import"], ...overrides }, deps);
  const runs: string[] = [];
  engine.register("import", async (_p, ctx) => {
    runs.push(ctx.jobId);
    await Promise.resolve();
  });
  await engine.start();
  engine.startWorkers();
  return { engine, runs };
}

it("a caller's upper-case job id is enqueued, run once and recorded under its canonical (lowercase) form", async () => {
  const metrics = new MetricsRegistry();
  const recorded: [string, string][] = [];
  const { engine, runs } = await runningEngine({ onRecorded: (id, status) => recorded.push([id, status]) }, { metrics });
  try {
    const canonical = uuidv7();
    const { jobId } = await engine.enqueue("import", { n: 1 }, { jobId: canonical.toUpperCase() });
    expect(jobId).toBe(canonical);
    await waitFor("the job completed", async () => ((await jobRow(h.db, canonical)).status === "completed" ? true : undefined));
    await waitFor("its outcome reported", async () => (recorded.length === 1 ? true : undefined));
    expect(recorded).toEqual([[canonical, "completed"]]);
    expect(runs).toEqual([canonical]);
    expect(await metricValue(metrics, jobsCompletedTotal.name, { type: "import" })).toBe(1);

    // The same id again, in either case, is the same job: idempotent, not run again.
    expect((await engine.enqueue("import", { n: 1 }, { jobId: canonical })).jobId).toBe(canonical);
    await engine.flushWrites();
    expect(runs).toEqual([canonical]);
  } finally {
    await engine.stop();
  }
});

it("a message whose id is in upper case claims and runs its job", async () => {
  const { engine, runs } = await runningEngine();
  try {
    const id = uuidv7();
    // The row as an enqueue writes it, already published: only the message below runs it.
    const store = new JobStore(h.db.sql);
    await store.insert([{ id, type: "import", payload: {}, maxAttempts: 6 }], new Date(), undefined);
    await h.db.sql.query("UPDATE jobs SET published = true WHERE id = $1", [id]);
    const ch = await h.broker.acquire();
    try {
      await ch.confirmSelect();
      await ch.basicPublish(
        { routingKey: workQueue("import", h.namespace), messageId: id.toUpperCase(), durable: true, contentType: "application/json", headers: { [HEADERS.attempt]: 0 } },
        "{}",
      );
    } finally {
      await ch.close();
    }
    await waitFor("the job completed", async () => ((await jobRow(h.db, id)).status === "completed" ? true : undefined));
    expect(runs).toEqual([id]);
    expect(await jobRow(h.db, id)).toMatchObject({ attempts: 1 });
  } finally {
    await engine.stop();
  }
});
