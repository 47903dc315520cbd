import { describe, expect, it } from "vitest";
import { StackConfigError, parseStackConfig, windowsOverlap } from "../../infra/config.js";
import { STACKS, loadEnvironmentModel, loadStack, readStackValues } from "../../infra/testing/stack-config.js";
import { parseStackConfigMap } from "../../model/stack-config.js";
import { readStackFile } from "../../model/environments.js";

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

  it.each([
    ["missing", (d: Raw) => delete d["frontendRepository"], /platform:deploy\.frontendRepository: /],
    ["not owner/name", (d: Raw) => (d["frontendRepository"] = "product-frontend"), /platform:deploy\.frontendRepository: must be a GitHub repository owner\/name/],
    ["this repository", (d: Raw) => (d["frontendRepository"] = String(d["repository"]).toUpperCase()), /platform:deploy\.frontendRepository: is platform:deploy\.repository/],
  ])("rejects a frontend repository that is %s", async (_what, edit, message) => {
    const raw = await edited("staging", (r) => edit(r["deploy"] as Raw));
    expect(errorOf(() => parseStackConfig("staging", raw)).message).toMatch(message);
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

  it("rejects cold storage for the RDS backups: AWS Backup has none for RDS, the setting would be ignored", async () => {
    const raw = await edited("prod", (r) => {
      (r["backup"] as Raw)["weeklyColdStorageAfterDays"] = 90;
    });
    expect(errorOf(() => parseStackConfig("prod", raw)).message).toMatch(/platform:backup\.weeklyColdStorageAfterDays: AWS Backup has no cold storage for RDS .*remove the key/);
  });

  it.each(STACKS)("%s: a private-only EKS endpoint needs the deploy runner", async (stack) => {
    const raw = await edited(stack, (r) => {
      (r["cluster"] as Raw)["publicEndpoint"] = false;
      delete (r["cluster"] as Raw)["publicAccessCidrs"];
      (r["deploy"] as Raw)["runner"] = "none";
    });
    expect(errorOf(() => parseStackConfig(loadEnvironmentModel(stack).tier, raw, stack)).message).toContain("platform:cluster.publicEndpoint: a private-only EKS endpoint needs the deploy runner");
  });

  it("rejects a public endpoint open to the internet, or without ranges", async () => {
    const open = await edited("dev", (r) => {
      (r["cluster"] as Raw)["publicAccessCidrs"] = ["0.0.0.0/0"];
    });
    expect(errorOf(() => parseStackConfig("dev", open)).message).toMatch(/platform:cluster\.publicAccessCidrs\.0: 0\.0\.0\.0\/0 opens the Kubernetes API to the whole internet/);
    const wide = await edited("dev", (r) => {
      (r["cluster"] as Raw)["publicAccessCidrs"] = ["10.0.0.0/8"];
    });
    expect(errorOf(() => parseStackConfig("dev", wide)).message).toMatch(/platform:cluster\.publicAccessCidrs\.0: 10\.0\.0\.0\/8 opens the Kubernetes API to 2\^24 addresses/);
    const none = await edited("dev", (r) => {
      delete (r["cluster"] as Raw)["publicAccessCidrs"];
    });
    expect(errorOf(() => parseStackConfig("dev", none)).message).toContain("platform:cluster.publicAccessCidrs: required with platform:cluster.publicEndpoint");
    const stray = await edited("staging", (r) => {
      (r["cluster"] as Raw)["publicAccessCidrs"] = ["198.51.100.0/24"];
    });
    expect(errorOf(() => parseStackConfig("staging", stray)).message).toContain("platform:cluster.publicAccessCidrs: only applies with platform:cluster.publicEndpoint: true");
  });

  it("keeps prod's Kubernetes API private", async () => {
    const raw = await edited("prod", (r) => {
      (r["cluster"] as Raw)["publicEndpoint"] = true;
      (r["cluster"] as Raw)["publicAccessCidrs"] = ["198.51.100.0/24"];
    });
    expect(errorOf(() => parseStackConfig("prod", raw)).message).toContain("platform:cluster.publicEndpoint: prod's Kubernetes API is private");
  });

  it("rejects the documentation placeholder account as the image registry, and anything that is not an ECR URL", async () => {
    const placeholder = await edited("prod", (r) => {
      (r["app"] as Raw)["imageRepository"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/product";
    });
    expect(errorOf(() => parseStackConfig("prod", placeholder)).message).toMatch(/platform:app\.imageRepository: 123456789012 is AWS's documentation placeholder account/);
    const notEcr = await edited("prod", (r) => {
      (r["app"] as Raw)["imageRepository"] = "docker.io/acme/product";
    });
    expect(errorOf(() => parseStackConfig("prod", notEcr)).message).toContain("platform:app.imageRepository: must be an ECR repository URL");
    const shared = await edited("prod", (r) => {
      (r["app"] as Raw)["imageRepository"] = "444455556666.dkr.ecr.eu-west-1.amazonaws.com/product";
    });
    expect(parseStackConfig("prod", shared).app.imageRepository).toBe("444455556666.dkr.ecr.eu-west-1.amazonaws.com/product");
  });

  it("has a standby use its primary's GitHub OIDC provider, and promotes only a standby", async () => {
    const dr = await edited("prod-dr", (r) => {
      (r["deploy"] as Raw)["oidcProvider"] = "create";
    });
    expect(errorOf(() => parseStackConfig("prod", dr, "prod-dr")).message).toContain("platform:deploy.oidcProvider: a standby runs in its primary's account");
    const promoted = await edited("prod", (r) => {
      (r["dr"] as Raw)["promoted"] = true;
    });
    expect(errorOf(() => parseStackConfig("prod", promoted)).message).toContain("platform:dr.promoted: only a standby is promoted");
    const failover = await edited("prod-dr", (r) => {
      (r["dr"] as Raw)["promoted"] = true;
    });
    expect(parseStackConfig("prod", failover, "prod-dr").dr.promoted).toBe(true);
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

describe("the cluster stack's secrets", () => {
  it("are refused on the AWS stack, with the command that sets them on the cluster stack", () => {
    const all = { ...readStackFile("prod"), "platform:smtpPassword": "x" };
    expect(() => parseStackConfigMap("prod", all)).toThrow(/platform:smtpPassword: moved to the cluster stack: pulumi config set --secret platform-cluster:smtpPassword <value> --stack prod --cwd infra\/cluster/);
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
