/**
 * Renders a committed stack under the shared mocks: the one path both tests/infra and
 * infra/plan.ts use.
 */
import type { StackConfig } from "../config.js";
import platform from "../index.js";
import { MOCK_OPERATOR_SECRETS, renderStack } from "./mocks.js";
import type { RenderedStack } from "./mocks.js";
import { loadStack } from "./stack-config.js";
import type { StackName } from "./stack-config.js";

export { STACKS, environmentOf, loadStack, readStackValues } from "./stack-config.js";
export type { StackName } from "./stack-config.js";

/** Runs the program for one stack under mocks. Not re-entrant: render stacks one at a time. */
export async function renderStackByName(stack: StackName): Promise<RenderedStack & { config: StackConfig }> {
  const config = await loadStack(stack);
  const rendered = await renderStack(stack, config, (c) => platform(c, MOCK_OPERATOR_SECRETS));
  return { ...rendered, config };
}
