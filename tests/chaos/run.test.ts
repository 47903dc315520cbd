/**
 * npm run chaos at a small size (issue 11), in npm test (an integration test; test:e2e keeps to its
 * ten minutes): the same ChaosRun the CLI runs,
 * with all four faults, must lose, duplicate and strand nothing; then losses planted on purpose
 * (a deleted job row, a second store write, a job left processing, a dead job without a reason)
 * must each be caught, so the check can fail.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killGroupsOnSignals } from "../../scripts/local/process-group.js";
import { deadJobLine, failed, summaryLine } from "../../scripts/chaos/checks.js";
import { FAULT_COUNTS, FAULT_KINDS } from "../../scripts/chaos/faults.js";
import { ChaosRun, type ChaosReport } from "../../scripts/chaos/run.js";

const IMPORTS = 400;
let run: ChaosRun | undefined;
let report: ChaosReport | undefined;

beforeAll(async () => {
  killGroupsOnSignals();
  run = await ChaosRun.start({ imports: IMPORTS, rate: 10, seed: 20261203, settleTimeoutMs: 240_000, log: (l) => console.log(l) });
}, 180_000);
afterAll(async () => {
  const leftovers = await run?.stop();
  expect(leftovers ?? []).toEqual([]);
}, 120_000);

describe("npm run chaos, small", () => {
  it(`${IMPORTS} imports under a broker outage, a killed worker, two pg_terminate_backend and a stand-in 503 window: lost=0 duplicated=0 stuck=0`, { timeout: 480_000 }, async () => {
    report = await run!.run();
    const c = report.counts;
    console.log(summaryLine(c, report.settleS, report.faults.length));
    for (const d of c.deadJobs) console.log(deadJobLine(d));
    expect(report.faults.map((f) => f.kind).sort()).toEqual(FAULT_KINDS.flatMap((k) => Array<string>(FAULT_COUNTS[k]).fill(k)).sort());
    expect(report.settled).toBe(true);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ sent: IMPORTS, lost: 0, duplicated: 0, stuck: 0, orphaned: 0, deadWithoutReason: 0, deadYetPushed: 0 });
    expect(report.send.refused).toBe(0);
    // Work really flowed end to end: four jobs per product, and every product with a good image
    // pushed once (every dead job stops one product short of the store, and no other does).
    expect(c.completed + c.dead).toBeGreaterThanOrEqual(IMPORTS * 4 - c.dead * 3);
    expect(c.pushed).toBe(IMPORTS - c.dead);
    expect(run!.platform.store.writes).toBe(c.pushed);
    expect(failed(c)).toBe(false);
  });

  it("the check fails on a planted loss, duplicate, stuck job, dead job without a reason and dead letter for a pushed product", { timeout: 120_000 }, async () => {
    expect(report, "the chaos run above ran").toBeDefined();
    const p = run!.platform;
    const [lostImport, stuckImport] = run!.acknowledged;
    // A lost job: the import job row of an acknowledged import disappears.
    await p.query("DELETE FROM jobs WHERE id = $1", [lostImport!.jobId]);
    // A stuck job: a completed job back in processing.
    await p.query("UPDATE jobs SET status = 'processing' WHERE id = $1", [stuckImport!.jobId]);
    // A dead job without a reason.
    await p.query("UPDATE jobs SET last_error = NULL WHERE id = (SELECT id FROM jobs WHERE status = 'dead' LIMIT 1)");
    // A dead letter for work that was done: a pushed product's push job dead.
    const [donePush] = await p.query<{ id: string }>(
      "SELECT j.id FROM jobs j JOIN products p ON p.id::text = j.payload->>'productId' WHERE j.type = 'push' AND j.status = 'completed' AND p.status = 'pushed' LIMIT 1",
    );
    await p.query("UPDATE jobs SET status = 'dead', last_error = 'planted' WHERE id = $1", [donePush!.id]);
    // A duplicate push: a pushed product written to the store a second time with a new key.
    const [pushed] = await p.query<{ id: string }>("SELECT id FROM products WHERE status = 'pushed' LIMIT 1");
    const res = await fetch(`${p.urls.store}/products`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": `planted-${pushed!.id}` },
      body: JSON.stringify({ title: "planted", externalId: pushed!.id }),
    });
    expect(res.status).toBe(200);

    const c = await run!.check();
    expect(c).toMatchObject({ lost: 1, duplicated: 1, stuck: 1, orphaned: 1, deadWithoutReason: 1, deadYetPushed: 1 });
    expect(c.problems.join("\n")).toContain(donePush!.id);
    expect(c.problems.join("\n")).toContain(lostImport!.jobId);
    expect(c.problems.join("\n")).toContain(pushed!.id);
    expect(failed(c)).toBe(true);
    expect(summaryLine(c, 0, 0)).toMatch(/ lost=1 duplicated=1 stuck=1 /);
  });
});
