import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsx = join("node_modules", ".bin", "tsx");

async function synth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, ["synth.ts", ...args], { maxBuffer: 8 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("npm run synth", () => {
  it("refuses an unknown environment and names the valid ones", async () => {
    const r = await synth(["--env", "nope"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown environment "nope"/);
    expect(r.stderr).toContain("dev, staging, prod, prod-dr");
  });

  it("refuses a missing environment and an unknown flag", async () => {
    expect((await synth([])).code).not.toBe(0);
    const r = await synth(["--env", "dev", "--colour"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/colour/);
  });

  it("writes a manifest that lists every artifact it wrote", async () => {
    const out = await mkdtemp(join(tmpdir(), "synth-"));
    try {
      const r = await synth(["--env", "dev", "--out", out]);
      expect(r.code).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, "dev", "manifest.json"), "utf8")) as {
        environment: string;
        artifacts: { path: string; sha256: string; bytes: number }[];
      };
      expect(manifest.environment).toBe("dev");
      for (const a of manifest.artifacts) {
        const body = await readFile(join(out, "dev", a.path));
        expect(body.length).toBe(a.bytes);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it("renders the standby prod-dr: its own plan, rules, dashboards and Alertmanager routing", async () => {
    const out = await mkdtemp(join(tmpdir(), "synth-"));
    try {
      const r = await synth(["--env", "prod-dr", "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, "prod-dr", "manifest.json"), "utf8")) as { environment: string; artifacts: { path: string; kind: string }[] };
      expect(manifest.environment).toBe("prod-dr");
      expect(new Set(manifest.artifacts.map((a) => a.kind))).toEqual(new Set(["dashboard", "prometheus-rules", "prometheus-rule-resource", "promtool-test", "alertmanager", "infra-plan"]));
      const am = await readFile(join(out, "prod-dr", "alertmanager.yaml"), "utf8");
      expect(am).toContain("#incidents-prod-dr");
      expect(am).toContain("pagerduty-critical");
      expect(am).toContain("https://heartbeat.acme.example/ping/alertmanager-prod-dr");
      const rules = await readFile(join(out, "prod-dr", "prometheus-rules.yaml"), "utf8");
      expect(rules).toContain("/runbooks/prod-dr/apiunavailable.md");
      expect(rules).toContain("https://grafana.dr.acme.example/d/");
      const plan = JSON.parse(await readFile(join(out, "prod-dr", "infra-plan.json"), "utf8")) as { type: string; name: string; args: Record<string, unknown> }[];
      expect(plan.some((p) => p.type === "pulumi:pulumi:StackReference" && p.name === "prod-dr-primary")).toBe(true);
      // The cluster stack's plan, reading prod-dr's AWS stack.
      const clusterPlan = JSON.parse(await readFile(join(out, "prod-dr", "infra-cluster-plan.json"), "utf8")) as { type: string; name: string; args: Record<string, unknown> }[];
      expect(clusterPlan.find((p) => p.type === "pulumi:pulumi:StackReference")?.args["name"]).toBe("organization/platform/prod-dr");
      expect(manifest.artifacts.filter((a) => a.kind === "infra-plan").map((a) => a.path).sort()).toEqual(["infra-cluster-plan.json", "infra-plan.json"]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it("--profile local renders the scaled rules and routing into out/<env>-local/, and refuses an unknown profile", async () => {
    const bad = await synth(["--env", "dev", "--profile", "fast"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown profile "fast": valid profiles are local/);
    const out = await mkdtemp(join(tmpdir(), "synth-local-"));
    try {
      const r = await synth(["--env", "dev", "--profile", "local", "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, "dev-local", "manifest.json"), "utf8")) as { profile: { name: string; factor: number }; artifacts: { path: string }[] };
      expect(manifest.profile.name).toBe("local");
      const paths = manifest.artifacts.map((a) => a.path);
      expect(paths).toContain("prometheus-rules.yaml");
      expect(paths).toContain("alertmanager.yaml");
      expect(paths).not.toContain("infra-plan.json");
      const rules = await readFile(join(out, "dev-local", "prometheus-rules.yaml"), "utf8");
      expect(rules).toContain("for: 5s");
      expect(rules).not.toContain("for: 5m");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
