/**
 * Loads a stack's committed config (Pulumi.<stack>.yaml) and renders it under the shared mocks:
 * the one path both tests/infra and infra/plan.ts use.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parseStackConfig, platformValues } from "../config.js";
import type { StackConfig } from "../config.js";
import type { Environment } from "../environments.js";
import platform from "../index.js";
import { MOCK_OPERATOR_SECRETS, renderStack } from "./mocks.js";
import type { RenderedStack } from "./mocks.js";

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

/** Runs the program for one stack under mocks. Not re-entrant: render stacks one at a time. */
export async function renderStackByName(stack: StackName): Promise<RenderedStack & { config: StackConfig }> {
  const config = await loadStack(stack);
  const rendered = await renderStack(stack, config, (c) => platform(c, MOCK_OPERATOR_SECRETS));
  return { ...rendered, config };
}
