/**
 * Renders a committed stack under the shared mocks: the one path both tests/infra and
 * infra/plan.ts use.
 */
import type { EnvironmentModel } from "../../model/environments.js";
import platform from "../index.js";
import { MOCK_OPERATOR_SECRETS, renderStack } from "./mocks.js";
import type { RenderedStack } from "./mocks.js";
import { loadEnvironmentModel } from "./stack-config.js";
import type { StackName } from "./stack-config.js";

export { STACKS, loadStack, loadEnvironmentModel, readStackValues } from "./stack-config.js";
export type { StackName } from "./stack-config.js";

/** Runs the program for one stack under mocks. Not re-entrant: render stacks one at a time. */
export async function renderStackByName(stack: StackName): Promise<RenderedStack & { env: EnvironmentModel; config: EnvironmentModel["config"] }> {
  const env = loadEnvironmentModel(stack);
  const rendered = await renderStack(env.name, env.region, () => platform(env, MOCK_OPERATOR_SECRETS));
  return { ...rendered, env, config: env.config };
}
