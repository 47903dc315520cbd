/**
 * The PolicyPack for both projects of an environment (needs the Pulumi CLI):
 *   pulumi preview --stack <env> --policy-pack infra/policies/pack                       (AWS stack, repo root)
 *   pulumi preview --stack <env> --policy-pack ../policies/pack      (cluster stack, in infra/cluster)
 * It wires the plain policy functions of ../rules.ts (one resource at a time) and
 * ../stack-rules.ts (a stack's resources together, linked through their propertyDependencies);
 * they are tested without the CLI in tests/infra. Stack policies see resolved outputs during
 * `pulumi up`; in a preview of resources not created yet, values they link by may be unknown.
 */
import { PolicyPack } from "@pulumi/policy";
import type { PolicyResource as PackResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { POLICIES } from "../rules.js";
import type { PolicyResource } from "../rules.js";
import { STACK_POLICIES } from "../stack-rules.js";

function toPolicyResource(r: PackResource): PolicyResource {
  const propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([prop, deps]) => [prop, deps.map((d) => `${d.type}::${d.name}`)]));
  return { type: r.type, name: r.name, args: r.props as Record<string, unknown>, ...(r.provider ? { provider: r.provider.name } : {}), propertyDependencies };
}

const resourcePolicies: ResourceValidationPolicy[] = POLICIES.map((p) => ({
  name: p.name,
  description: p.description,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const message of p.validate({ type: args.type, name: args.name, args: args.props as Record<string, unknown> })) reportViolation(message);
  },
}));

const stackPolicies: StackValidationPolicy[] = STACK_POLICIES.map((p) => ({
  name: p.name,
  description: p.description,
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const message of p.validateStack(args.resources.map(toPolicyResource))) reportViolation(message);
  },
}));

new PolicyPack("platform", { policies: [...resourcePolicies, ...stackPolicies] });
