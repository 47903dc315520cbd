/**
 * npm run policy:check -- <plan.json>... : the policy pack's rules over rendered plans, without the
 * Pulumi CLI. Each file is one stack's plan (infra-plan.json, infra-cluster-plan.json of
 * `npm run synth`): resource and stack policies run per file, the environment policies over all
 * the files given together. Prints the violations per policy and exits 1 if there are any.
 */
import { readFile } from "node:fs/promises";
import { POLICIES, violations } from "./rules.js";
import type { PolicyResource } from "./rules.js";
import { ENVIRONMENT_POLICIES, STACK_POLICIES, stackViolations } from "./stack-rules.js";

export interface PlanCheck {
  /** Violations per policy name (only policies with any). */
  readonly byPolicy: Record<string, string[]>;
  readonly total: number;
}

export function checkPlans(plans: readonly (readonly PolicyResource[])[]): PlanCheck {
  const all = [
    ...plans.flatMap((plan) => [...violations(plan), ...stackViolations(plan)]),
    ...stackViolations(plans.flat(), ENVIRONMENT_POLICIES).filter((v) => !plans.some((plan) => stackViolations(plan, ENVIRONMENT_POLICIES).includes(v))),
  ];
  const byPolicy: Record<string, string[]> = {};
  for (const v of all) {
    const name = v.slice(0, v.indexOf(": "));
    (byPolicy[name] ??= []).push(v.slice(name.length + 2));
  }
  return { byPolicy, total: all.length };
}

async function main(files: string[]): Promise<number> {
  if (files.length === 0) {
    console.error("usage: npm run policy:check -- <plan.json>...");
    return 2;
  }
  const plans = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, "utf8")) as PolicyResource[]));
  const { byPolicy, total } = checkPlans(plans);
  const names = [...POLICIES.map((p) => p.name), ...STACK_POLICIES.map((p) => p.name), ...ENVIRONMENT_POLICIES.map((p) => p.name)].filter((n, i, a) => a.indexOf(n) === i);
  const lines: string[] = [];
  for (const name of names) {
    const found = byPolicy[name] ?? [];
    lines.push(`${found.length === 0 ? "pass" : "FAIL"}  ${name}${found.length ? ` (${found.length})` : ""}`, ...found.map((v) => `        ${v}`));
  }
  lines.push(`${total} violation(s) in ${files.join(", ")}`);
  process.stdout.write(lines.join("\n") + "\n");
  return total === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
