/**
 * The rendered environments of tests/infra (both projects of each stack, under the shared mocks)
 * and the lookups the tests use on them. Call renderAll() in a beforeAll; stacks render one at a
 * time (setMocks is process-global).
 */
import { expect } from "vitest";
import type { PlannedResource } from "../../infra/testing/mocks.js";
import { STACKS, renderStackByName } from "../../infra/testing/stacks.js";
import type { EnvironmentResource, ProjectName, RenderedEnvironment, StackName } from "../../infra/testing/stacks.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

export function renderedEnvironments() {
  const rendered = new Map<StackName, RenderedEnvironment>();
  const get = (stack: StackName) => {
    const r = rendered.get(stack);
    if (!r) throw new Error(`${stack} is not rendered (call renderAll in beforeAll)`);
    return r;
  };
  const ofType = (stack: StackName, type: string) => get(stack).resources.filter((r) => r.type === type);
  return {
    renderAll: async (stacks: readonly StackName[] = STACKS) => {
      for (const stack of stacks) rendered.set(stack, await renderStackByName(stack));
    },
    get,
    ofType,
    one: (stack: StackName, type: string, name?: string): EnvironmentResource => {
      const found = ofType(stack, type).filter((r) => name === undefined || r.name === name);
      expect(found, `${type} ${name ?? ""} in ${stack}`).toHaveLength(1);
      return found[0]!;
    },
    k8sKind: (stack: StackName, kind: string) => get(stack).resources.filter((r) => r.type.startsWith("kubernetes:") && r.args["kind"] === kind),
    /** "type::name" of what a resource depends on, within its own project's stack. */
    dependsOn: (stack: StackName, r: EnvironmentResource) => project(get(stack), r.project).dependencies.get(`${r.type}::${r.name}`) ?? [],
    /** One project's resources. */
    resourcesOf: (stack: StackName, p: ProjectName): readonly PlannedResource[] => project(get(stack), p).resources,
  };
}

function project(env: RenderedEnvironment, p: ProjectName) {
  return p === "platform" ? env.aws : env.cluster;
}

export const metaOf = (r: PlannedResource): Any => r.args["metadata"];
export const nameOf = (r: PlannedResource): string => metaOf(r)?.name;
