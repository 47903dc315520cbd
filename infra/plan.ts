// Before @pulumi/pulumi loads: the program (testing/stacks.js) is imported on first render, not
// statically, since Node runs an imported CommonJS module (@pulumi/*) ahead of its ESM siblings.
import "./testing/lazy-deps.js";
import type { ArtifactSource } from "../synth/artifact.js";
import type { PlannedResource } from "./testing/mocks.js";
import type { ProjectName, StackName } from "./testing/stacks.js";

/** Sorts object keys deeply so the JSON is byte-stable across runs. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export type EnvironmentPlan = Record<ProjectName, PlannedResource[]>;

/** The plan file of each project: the AWS project's and the cluster project's. */
export const PLAN_FILES: Record<ProjectName, string> = { platform: "infra-plan.json", "platform-cluster": "infra-cluster-plan.json" };

const planOf = (resources: readonly PlannedResource[]) => resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => stable(r) as PlannedResource);

/**
 * Every resource each project's program registers for an environment, rendered under the same
 * mocks as tests/infra: `{type, name, args}` with args the resolved inputs (Kubernetes objects
 * include `kind`), secrets redacted, sorted by type and name. The root Stack resource is left out.
 */
export async function renderPlan(stack: StackName): Promise<EnvironmentPlan> {
  const { renderStackByName } = await import("./testing/stacks.js");
  const { aws, cluster } = await renderStackByName(stack);
  return { platform: planOf(aws.resources), "platform-cluster": planOf(cluster.resources) };
}

/** infra-plan.json and infra-cluster-plan.json: every resource both projects would create, rendered under mocks. */
export const infraPlanArtifacts: ArtifactSource = async (env) => {
  const plan = await renderPlan(env.name);
  return (Object.keys(PLAN_FILES) as ProjectName[]).map((project) => ({ path: PLAN_FILES[project], kind: "infra-plan", content: JSON.stringify(plan[project], null, 2) + "\n" }));
};
