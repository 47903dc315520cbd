// Before @pulumi/pulumi loads: the program (testing/stacks.js) is imported on first render, not
// statically, since Node runs an imported CommonJS module (@pulumi/*) ahead of its ESM siblings.
import "./testing/lazy-deps.js";
import type { ArtifactSource } from "../synth/artifact.js";
import type { PlannedResource } from "./testing/mocks.js";
import type { StackName } from "./testing/stacks.js";

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

/**
 * Every resource a stack's program registers, rendered under the same mocks as tests/infra:
 * `{type, name, args}` with args the resolved inputs (Kubernetes objects include `kind`), secrets
 * redacted, sorted by type and name. The root Stack resource is left out.
 */
export async function renderPlan(stack: StackName): Promise<PlannedResource[]> {
  const { renderStackByName } = await import("./testing/stacks.js");
  const { resources } = await renderStackByName(stack);
  return resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => stable(r) as PlannedResource);
}

/** infra-plan.json: every resource the Pulumi program would create, rendered under mocks. */
export const infraPlanArtifacts: ArtifactSource = async (env) => {
  const plan = await renderPlan(env.name);
  return [{ path: "infra-plan.json", kind: "infra-plan", content: JSON.stringify(plan, null, 2) + "\n" }];
};
