import { describe, expect, it } from "vitest";
import { StackConfigError, parseStackConfig, windowsOverlap } from "../../infra/config.js";
import { STACKS, loadEnvironmentModel, loadStack, readStackValues } from "../../infra/testing/stack-config.js";

type Raw = Record<string, unknown>;

/** A deep copy of a stack's committed values with one edit applied. */
async function edited(stack: (typeof STACKS)[number], edit: (raw: Raw) => void): Promise<Raw> {
  const raw = structuredClone(await readStackValues(stack)) as Raw;
  edit(raw);
  return raw;
}

function errorOf(fn: () => unknown): StackConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StackConfigError) return err;
    throw err;
  }
  throw new Error("expected a StackConfigError");
}

describe("committed stack configs", () => {
  it.each(STACKS)("Pulumi.%s.yaml is valid", async (stack) => {
    const cfg = await loadStack(stack);
    expect(cfg.environment).toBe(loadEnvironmentModel(stack).tier);
    expect(loadEnvironmentModel(stack).name).toBe(stack);
    expect(cfg.rds.backupRetentionDays).toBeGreaterThanOrEqual(30);
    expect(cfg.rds.backupWindow.startsWith("03:00")).toBe(true);
    expect(cfg.dr).toMatchObject({ rtoHours: 4, rpoHours: 1 });
  });

  it("prod-dr is a standby of prod in the second region", async () => {
    const prod = await loadStack("prod");
    const dr = await loadStack("prod-dr");
    expect(dr.dr.role).toBe("standby");
    expect(dr.region).toBe(prod.secondaryRegion);
    expect(dr.dns.apiHostname).toBe(prod.dns.apiHostname);
  });
});

describe("config validation names the bad key", () => {
  it("rejects a backup window that overlaps the maintenance window", async () => {
    const raw = await edited("prod", (r) => {
      (r["rds"] as Raw)["maintenanceWindow"] = "sun:02:00-sun:04:00";
    });
    const err = errorOf(() => parseStackConfig("prod", raw));
    expect(err.message).toContain("platform:rds.backupWindow");
    expect(err.message).toMatch(/overlaps the maintenance window/);
  });

  it("rejects retention under 30 days", async () => {
    const raw = await edited("dev", (r) => {
      (r["rds"] as Raw)["backupRetentionDays"] = 7;
    });
    expect(errorOf(() => parseStackConfig("dev", raw)).message).toMatch(/platform:rds\.backupRetentionDays: must be at least 30 days/);
  });

  it("rejects an unknown instance class", async () => {
    const raw = await edited("staging", (r) => {
      (r["rds"] as Raw)["instanceClass"] = "db.huge.enormous";
    });
    expect(errorOf(() => parseStackConfig("staging", raw)).message).toMatch(/platform:rds\.instanceClass: unknown RDS instance class/);
  });

  it("rejects an AWS Backup lifecycle shorter than 90 days in cold storage", async () => {
    const raw = await edited("prod", (r) => {
      (r["backup"] as Raw)["weeklyRetentionDays"] = 120;
    });
    expect(errorOf(() => parseStackConfig("prod", raw)).message).toContain("platform:backup.weeklyRetentionDays");
  });

  it("rejects a prod stack that is not highly available", async () => {
    const raw = await edited("prod", (r) => {
      (r["rds"] as Raw)["multiAz"] = false;
      (r["broker"] as Raw)["deploymentMode"] = "SINGLE_INSTANCE";
    });
    const message = errorOf(() => parseStackConfig("prod", raw)).message;
    expect(message).toContain("platform:rds.multiAz");
    expect(message).toContain("platform:broker.deploymentMode");
  });

  it("rejects unknown keys (typos) and wrong types", async () => {
    const raw = await edited("dev", (r) => {
      r["rdss"] = {};
      (r["cluster"] as Raw)["minSize"] = "two";
    });
    const message = errorOf(() => parseStackConfig("dev", raw)).message;
    expect(message).toContain("platform:rdss: unknown key");
    expect(message).toContain("platform:cluster.minSize");
  });

  it("rejects a stack whose environment disagrees with the one deployed", async () => {
    const raw = await edited("dev", (r) => {
      r["environment"] = "prod";
    });
    expect(errorOf(() => parseStackConfig("dev", raw)).message).toContain("platform:environment");
  });
});

describe("windowsOverlap", () => {
  it.each([
    ["03:00-03:30", "sun:02:00-sun:04:00", true],
    ["03:00-03:30", "sun:02:00-sun:02:45", false],
    ["03:00-03:30", "sun:02:00-sun:03:00", true], // touching counts
    ["03:00-03:30", "sun:03:30-sun:04:00", true],
    ["03:00-03:30", "sun:03:31-sun:04:00", false],
    ["23:45-00:15", "mon:00:00-mon:00:30", true], // backup wraps midnight
    ["00:00-00:30", "sat:23:30-sun:00:10", true], // maintenance wraps midnight
    ["00:00-00:30", "sun:23:50-mon:00:20", true], // maintenance wraps the week
    ["12:00-12:30", "sun:23:50-mon:00:20", false],
  ])("backup %s vs maintenance %s -> %s", (backup, maintenance, expected) => {
    expect(windowsOverlap(backup, maintenance)).toBe(expected);
  });
});
