/**
 * Renders a committed environment under the shared mocks: the one path both tests/infra and
 * infra/plan.ts use. An environment is two stacks: the AWS project's, then the cluster project's,
 * whose StackReference reads the AWS stack's rendered outputs (and a standby's AWS stack reads its
 * primary's, rendered first).
 */
import type { EnvironmentModel } from "../../model/environments.js";
import platform from "../index.js";
import platformCluster from "../cluster/index.js";
import { AWS_PROJECT, CLUSTER_PROJECT, SECRET_OUTPUTS, awsStackName } from "../contract.js";
import { MOCK_CLUSTER_SECRETS, MOCK_ORGANIZATION, renderStack } from "./mocks.js";
import type { MockStackOutputs, PlannedResource, RenderedStack } from "./mocks.js";
import { loadEnvironmentModel } from "./stack-config.js";
import type { StackName } from "./stack-config.js";

export { STACKS, loadStack, loadEnvironmentModel, readStackValues } from "./stack-config.js";
export type { StackName } from "./stack-config.js";

export const PROJECTS = [AWS_PROJECT, CLUSTER_PROJECT] as const;
export type ProjectName = (typeof PROJECTS)[number];

/** A planned resource with the project whose stack registers it. */
export type EnvironmentResource = PlannedResource & { readonly project: ProjectName };

export interface RenderedEnvironment {
  readonly env: EnvironmentModel;
  readonly config: EnvironmentModel["config"];
  readonly aws: RenderedStack;
  readonly cluster: RenderedStack;
  /** Both projects' resources, the AWS stack's first. */
  readonly resources: readonly EnvironmentResource[];
}

/** A rendered AWS stack as a StackReference sees it. */
export function asStackOutputs(stack: RenderedStack): MockStackOutputs {
  return { outputs: stack.outputs, secretOutputNames: SECRET_OUTPUTS.filter((k) => k in stack.outputs) };
}

/** Runs the AWS program of one stack under mocks (a standby's primary is rendered first). */
export async function renderAwsStack(env: EnvironmentModel): Promise<RenderedStack> {
  const stacks: Record<string, MockStackOutputs> = {};
  if (env.primary !== undefined) {
    const primary = loadEnvironmentModel(env.primary);
    stacks[env.config.dr.primaryStack ?? awsStackName(MOCK_ORGANIZATION, primary.name)] = asStackOutputs(await renderAwsStack(primary));
  }
  return renderStack(env.name, env.region, () => platform(env) as Record<string, unknown>, { project: AWS_PROJECT, stacks });
}

/** Runs both programs of one environment under mocks. Not re-entrant: render environments one at a time. */
export async function renderStackByName(stack: StackName): Promise<RenderedEnvironment> {
  const env = loadEnvironmentModel(stack);
  const aws = await renderAwsStack(env);
  const cluster = await renderStack(env.name, env.region, () => platformCluster(env, MOCK_CLUSTER_SECRETS), {
    project: CLUSTER_PROJECT,
    stacks: { [awsStackName(MOCK_ORGANIZATION, env.name)]: asStackOutputs(aws) },
  });
  const tag = (project: ProjectName) => (r: PlannedResource): EnvironmentResource => ({ ...r, project });
  return { env, config: env.config, aws, cluster, resources: [...aws.resources.map(tag(AWS_PROJECT)), ...cluster.resources.map(tag(CLUSTER_PROJECT))] };
}
