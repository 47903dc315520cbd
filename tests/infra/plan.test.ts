import { describe, expect, it } from "vitest";
import { infraPlanArtifacts, renderPlan } from "../../infra/plan.js";
import { environment } from "../../model/environments.js";

describe("infra-plan.json", () => {
  it("renders environments one after another in one process, deterministically and without leaking", async () => {
    const dev1 = await renderPlan("dev");
    const prod = await renderPlan("prod");
    const dev2 = await renderPlan("dev");
    expect(JSON.stringify(dev2)).toBe(JSON.stringify(dev1));
    expect(prod.length).toBeGreaterThan(dev1.length);
    const aws = (plan: typeof dev1) => plan.filter((r) => r.type.startsWith("aws:"));
    for (const r of aws(dev1)) expect(r.name.startsWith("dev-"), r.name).toBe(true);
    for (const r of aws(prod)) expect(r.name.startsWith("prod-"), r.name).toBe(true);
  }, 60_000);

  it("is a JSON array of {type, name, args}, Kubernetes objects with their kind, secrets redacted", async () => {
    const [artifact] = await infraPlanArtifacts(environment("staging"));
    expect(artifact).toMatchObject({ path: "infra-plan.json", kind: "infra-plan" });
    const plan = JSON.parse(artifact!.content) as { type: string; name: string; args: Record<string, unknown> }[];
    expect(plan.some((r) => r.type === "pulumi:pulumi:Stack")).toBe(false);
    for (const r of plan) {
      expect(typeof r.type).toBe("string");
      expect(typeof r.name).toBe("string");
      expect(typeof r.args).toBe("object");
      if (r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh")) expect(r.args["kind"], `${r.type} ${r.name}`).toEqual(expect.any(String));
    }
    expect(plan.find((r) => r.type === "aws:rds/instance:Instance")?.args["password"]).toBe("[secret]");
    // Every secret the program handles (passwords, routing keys, webhook URLs) stays out of the plan.
    expect(artifact!.content).not.toMatch(/mock-(password|smtp|heartbeat|routing|primary-routing)|hooks\.slack/);
    for (let i = 1; i < plan.length; i++) {
      const [a, b] = [plan[i - 1]!, plan[i]!];
      expect(a.type < b.type || (a.type === b.type && a.name.localeCompare(b.name) <= 0), `${a.type} ${a.name} before ${b.type} ${b.name}`).toBe(true);
    }
  }, 60_000);
});
