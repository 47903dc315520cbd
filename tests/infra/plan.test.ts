import { describe, expect, it } from "vitest";
import { PLAN_FILES, infraPlanArtifacts, renderPlan } from "../../infra/plan.js";
import { environment } from "../../model/environments.js";

describe("the infra plans (infra-plan.json, infra-cluster-plan.json)", () => {
  it("renders environments one after another in one process, deterministically and without leaking", async () => {
    const dev1 = await renderPlan("dev");
    const prod = await renderPlan("prod");
    const dev2 = await renderPlan("dev");
    expect(JSON.stringify(dev2)).toBe(JSON.stringify(dev1));
    expect(prod.platform.length).toBeGreaterThan(dev1.platform.length);
    for (const [env, plan] of [["dev", dev1], ["prod", prod]] as const) {
      for (const project of ["platform", "platform-cluster"] as const) {
        const aws = plan[project].filter((r) => r.type.startsWith("aws:"));
        for (const r of aws) expect(r.name.startsWith(`${env}-`), `${project} ${r.name}`).toBe(true);
      }
    }
  }, 90_000);

  it("is one JSON array of {type, name, args} per project, Kubernetes objects with their kind, secrets redacted", async () => {
    const artifacts = await infraPlanArtifacts(environment("staging"));
    expect(artifacts.map((a) => [a.path, a.kind])).toEqual([
      [PLAN_FILES.platform, "infra-plan"],
      [PLAN_FILES["platform-cluster"], "infra-plan"],
    ]);
    const [awsPlan, clusterPlan] = artifacts.map((a) => JSON.parse(a.content) as { type: string; name: string; args: Record<string, unknown> }[]);
    // The AWS stack drives no Kubernetes API; the cluster stack creates no cluster.
    expect(awsPlan!.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    expect(clusterPlan!.filter((r) => r.type.startsWith("aws:eks/"))).toEqual([]);
    for (const [i, plan] of [awsPlan!, clusterPlan!].entries()) {
      expect(plan.some((r) => r.type === "pulumi:pulumi:Stack")).toBe(false);
      for (const r of plan) {
        expect(typeof r.type).toBe("string");
        expect(typeof r.name).toBe("string");
        expect(typeof r.args).toBe("object");
        if (r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh")) expect(r.args["kind"], `${r.type} ${r.name}`).toEqual(expect.any(String));
      }
      // Every secret the programs handle (passwords, tokens, routing keys, webhook URLs, database URLs) stays out of the plans.
      expect(artifacts[i]!.content).not.toMatch(/mock-(password|smtp|heartbeat|routing|integration-key)|hooks\.slack|postgresql:\/\/|amqps:\/\/[^@"]+@/);
      for (let j = 1; j < plan.length; j++) {
        const [a, b] = [plan[j - 1]!, plan[j]!];
        expect(a.type < b.type || (a.type === b.type && a.name.localeCompare(b.name) <= 0), `${a.type} ${a.name} before ${b.type} ${b.name}`).toBe(true);
      }
    }
    expect(awsPlan!.find((r) => r.type === "aws:rds/instance:Instance")?.args["password"]).toBe("[secret]");
    const dbSecret = clusterPlan!.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.args["metadata"] as { name: string }).name === "db-api");
    expect(dbSecret?.args["stringData"]).toEqual({ DATABASE_URL: "[secret]" });
  }, 90_000);
});
