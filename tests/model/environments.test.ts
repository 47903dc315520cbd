/**
 * The environment model: one list of environments, equal to the committed stack files and to the
 * README's table; every part reads it; it sits at the bottom of the import graph.
 */
import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, environment, environments } from "../../model/environments.js";
import { environmentTable } from "../../model/environment-table.js";
import { alertmanagerConfig } from "../../alerts/alertmanager.js";

const ROOT = join(import.meta.dirname, "../..");

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true });
  return entries.filter((f) => f.endsWith(".ts") && !f.includes("node_modules")).map((f) => join(dir, f));
}

/** The relative imports of a file, resolved to repo paths. */
async function importsOf(file: string): Promise<string[]> {
  const src = await readFile(join(ROOT, file), "utf8");
  const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+["']([^"']+)["']|import\(["']([^"']+)["']\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, join(ROOT, file, "..", s)));
}

describe("the environments", () => {
  it("are exactly the committed Pulumi.<stack>.yaml files", async () => {
    const stacks = (await readdir(ROOT)).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice("Pulumi.".length, -".yaml".length));
    expect([...stacks].sort()).toEqual([...ENVIRONMENTS].sort());
  });

  it("are exactly the README's table, which is the model's rendering", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const block = /<!-- environments:begin -->\n([\s\S]*?)\n<!-- environments:end -->/.exec(readme)?.[1];
    expect(block, "README.md has an environments block").toBeDefined();
    expect(block).toBe(environmentTable());
    const listed = [...block!.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual([...ENVIRONMENTS]);
  });

  it("include prod-dr as a standby of prod with its own monitoring, paging through prod's service", () => {
    const dr = environment("prod-dr");
    const prod = environment("prod");
    expect(dr).toMatchObject({ name: "prod-dr", tier: "prod", role: "standby", primary: "prod", region: prod.secondaryRegion, ownsPagerDutyService: false });
    expect(dr.monitoring.pages).toBe("pagerduty");
    expect(dr.monitoring.grafanaUrl).not.toBe(prod.monitoring.grafanaUrl);
    expect(dr.monitoring.slack.critical).not.toBe(prod.monitoring.slack.critical);
    expect(dr.monitoring.runbookBaseUrl).toMatch(/\/runbooks\/prod-dr$/);
  });

  it("each have their own hosts, channels and addresses: no two environments share a Slack channel or a Grafana", () => {
    const envs = environments();
    for (const key of ["alerts", "critical", "admins"] as const) expect(new Set(envs.map((e) => e.monitoring.slack[key])).size).toBe(envs.length);
    expect(new Set(envs.map((e) => e.monitoring.grafanaUrl)).size).toBe(envs.length);
    expect(new Set(envs.map((e) => e.monitoring.digestEmail)).size).toBe(envs.length);
    // Only a standby shares its primary's public names (the failover record).
    for (const e of envs.filter((x) => x.role === "primary")) {
      expect(envs.filter((x) => x.hosts.api === e.hosts.api).map((x) => x.name).sort()).toEqual(envs.filter((x) => x.name === e.name || x.primary === e.name).map((x) => x.name).sort());
    }
  });
});

describe("where critical alerts go", () => {
  it.each([...ENVIRONMENTS])("%s: its rendered routing matches the model (pagerduty + slack, or slack only)", (name) => {
    const env = environment(name);
    const cfg = alertmanagerConfig(env);
    const receivers = cfg.receivers.map((r) => r.name);
    const critical = (cfg.route.routes ?? []).filter((r) => r.matchers?.includes('severity="critical"')).map((r) => r.receiver);
    if (env.monitoring.pages === "pagerduty") {
      expect(critical).toEqual(["pagerduty-critical", "slack-critical"]);
    } else {
      expect(critical).toEqual(["slack-critical"]);
      expect(receivers).not.toContain("pagerduty-critical");
    }
    const slackCritical = cfg.receivers.find((r) => r.name === "slack-critical")!;
    expect(slackCritical.slack_configs?.[0]?.channel).toBe(env.monitoring.slack.critical);
  });
});

describe("the import graph", () => {
  it("model/ imports nothing from the areas above it", async () => {
    for (const file of await tsFiles("model")) {
      for (const target of await importsOf(file)) {
        expect(target.startsWith("model/") || target === "services/jobs/types.js", `${file} imports ${target}`).toBe(true);
      }
    }
  });

  it("alerts/ and dashboards/ never import the Pulumi program (infra/)", async () => {
    for (const file of [...(await tsFiles("alerts")), ...(await tsFiles("dashboards"))]) {
      for (const target of await importsOf(file)) expect(target.startsWith("infra/"), `${file} imports ${target}`).toBe(false);
    }
  });

  it("alerts/ renders no dashboards: each area exports its own artifacts and synth/ collects them", async () => {
    const sources = await readFile(join(ROOT, "synth/sources.ts"), "utf8");
    for (const area of ["dashboards/artifacts.js", "alerts/artifacts.js", "infra/plan.js"]) expect(sources).toContain(area);
    for (const file of await tsFiles("alerts")) {
      for (const target of await importsOf(file)) expect(target.startsWith("dashboards/artifacts"), `${file} imports ${target}`).toBe(false);
    }
  });
});
