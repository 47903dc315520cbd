/**
 * The PolicyPack for `pulumi preview --policy-pack infra/policies/pack` (needs the Pulumi CLI).
 * It wires the plain policy functions of ../rules.ts; they are tested without the CLI in tests/infra.
 */
import { PolicyPack } from "@pulumi/policy";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { POLICIES } from "../rules.js";

const policies: ResourceValidationPolicy[] = POLICIES.map((p) => ({
  name: p.name,
  description: p.description,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const message of p.validate({ type: args.type, name: args.name, args: args.props as Record<string, unknown> })) reportViolation(message);
  },
}));

new PolicyPack("platform", { policies });
