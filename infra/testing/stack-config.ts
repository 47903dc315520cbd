/** The committed stack configs (Pulumi.<stack>.yaml), read without Pulumi. */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parseStackConfig, platformValues } from "../config.js";
import type { StackConfig } from "../config.js";
import type { Environment } from "../environments.js";

export const STACKS = ["dev", "staging", "prod", "prod-dr"] as const;
export type StackName = (typeof STACKS)[number];

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The environment a stack deploys: prod-dr deploys prod. */
export function environmentOf(stack: StackName): Environment {
  return stack === "prod-dr" ? "prod" : stack;
}

/** The raw `platform:` values of Pulumi.<stack>.yaml. */
export async function readStackValues(stack: StackName): Promise<Record<string, unknown>> {
  const doc = parse(await readFile(`${REPO_ROOT}Pulumi.${stack}.yaml`, "utf8")) as { config?: Record<string, unknown> };
  return platformValues(doc.config ?? {});
}

export async function loadStack(stack: StackName): Promise<StackConfig> {
  return parseStackConfig(environmentOf(stack), await readStackValues(stack));
}
