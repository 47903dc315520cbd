/** The committed stack configs (Pulumi.<stack>.yaml), read without Pulumi: one stack per environment. */
import { ENVIRONMENTS, environment, readStackFile } from "../../model/environments.js";
import type { EnvironmentModel, EnvironmentName } from "../../model/environments.js";
import { platformValues } from "../../model/stack-config.js";
import type { StackConfig } from "../../model/stack-config.js";

export const STACKS = ENVIRONMENTS;
export type StackName = EnvironmentName;

/** The raw `platform:` values of Pulumi.<stack>.yaml (keys without the prefix). */
export async function readStackValues(stack: StackName): Promise<Record<string, unknown>> {
  return platformValues(readStackFile(stack));
}

/** The validated config of a committed stack. */
export async function loadStack(stack: StackName): Promise<StackConfig> {
  return environment(stack).config;
}

/** The environment model of a committed stack. */
export function loadEnvironmentModel(stack: StackName): EnvironmentModel {
  return environment(stack);
}
