/** The chaos run's flags and seeded fault plan (scripts/chaos/): the same seed plans the same faults. */
import { describe, expect, it } from "vitest";
import { FAULT_COUNTS, FAULT_KINDS, planFaults, STANDIN_OUTAGE_MS } from "../../scripts/chaos/faults.js";
import { CHAOS_DEFAULTS, parseChaosArgs } from "../../scripts/chaos/options.js";
import { seededRandom } from "../../scripts/chaos/random.js";
import { WORKER_PROCESSES } from "../../scripts/chaos/run.js";
import { reasonKey, summaryLine } from "../../scripts/chaos/checks.js";

describe("chaos flags", () => {
  it("parses --imports, --seed, --rate and --settle-timeout, with the documented defaults", () => {
    expect(parseChaosArgs(["--imports", "500", "--seed", "42", "--rate", "12.5", "--settle-timeout", "90"])).toEqual({ imports: 500, seed: 42, rate: 12.5, settleTimeoutMs: 90_000 });
    const d = parseChaosArgs([]);
    expect(d).toMatchObject({ imports: CHAOS_DEFAULTS.imports, rate: CHAOS_DEFAULTS.rate, settleTimeoutMs: CHAOS_DEFAULTS.settleTimeoutS * 1000 });
    expect(Number.isInteger(d.seed)).toBe(true);
  });
  it("refuses bad values and unknown flags", () => {
    expect(() => parseChaosArgs(["--imports", "0"])).toThrow(/--imports/);
    expect(() => parseChaosArgs(["--imports", "1.5"])).toThrow(/--imports/);
    expect(() => parseChaosArgs(["--seed", "-1"])).toThrow(/--seed/);
    expect(() => parseChaosArgs(["--faults", "none"])).toThrow();
  });
});

describe("the fault plan", () => {
  it("has every kind as often as the issue asks, inside 10-80 % of the window, in time order", () => {
    const plan = planFaults(seededRandom(7), 100_000, WORKER_PROCESSES);
    expect(plan.map((f) => f.kind).sort()).toEqual(FAULT_KINDS.flatMap((k) => Array<string>(FAULT_COUNTS[k]).fill(k)).sort());
    expect(FAULT_COUNTS["db-terminate"]).toBe(2);
    for (const f of plan) {
      expect(f.atMs).toBeGreaterThanOrEqual(10_000);
      expect(f.atMs).toBeLessThanOrEqual(80_000);
    }
    expect(plan.map((f) => f.atMs)).toEqual([...plan.map((f) => f.atMs)].sort((a, b) => a - b));
    expect(WORKER_PROCESSES).toContain(plan.find((f) => f.kind === "worker-kill")!.target);
    expect(plan.find((f) => f.kind === "standin-503")).toMatchObject({ durationMs: STANDIN_OUTAGE_MS });
  });
  it("is the same for the same seed and differs for another", () => {
    expect(planFaults(seededRandom(99), 60_000, WORKER_PROCESSES)).toEqual(planFaults(seededRandom(99), 60_000, WORKER_PROCESSES));
    expect(planFaults(seededRandom(99), 60_000, WORKER_PROCESSES)).not.toEqual(planFaults(seededRandom(100), 60_000, WORKER_PROCESSES));
  });
});

describe("the report", () => {
  it("groups dead reasons without their particulars and prints one summary line", () => {
    expect(reasonKey("image", "image 0 (http://127.0.0.1:4100/img/x.jpg) is corrupt:\n bad")).toBe(reasonKey("image", "image 3 (http://127.0.0.1:9/img/y.jpg) is corrupt:  bad"));
    const line = summaryLine({ sent: 5, completed: 19, dead: 1, lost: 0, duplicated: 0, stuck: 0, orphaned: 0, deadWithoutReason: 0, deadYetPushed: 0, pushed: 4, deadByReason: {}, deadJobs: [], problems: [] }, 12.34, 5);
    expect(line).toBe("chaos: sent=5 completed=19 dead=1 lost=0 duplicated=0 stuck=0 orphaned=0 settle=12.3s faults=5");
  });
});
