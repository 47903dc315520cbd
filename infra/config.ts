/**
 * The running stack's configuration, for `pulumi up`: read from the engine and validated by the
 * environment model's schema (model/stack-config.ts), the same code path that reads the committed
 * Pulumi.<stack>.yaml files for synth and the tests. A bad value fails with the key's name before
 * anything is created. Both projects (AWS and cluster) read the environment this way: the AWS
 * project from its own stack config, the cluster project from the committed root stack file of the
 * environment its stack is named after (infra/cluster/config.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { environmentModel } from "../model/environments.js";
import type { EnvironmentModel } from "../model/environments.js";
import { parseStackConfigMap } from "../model/stack-config.js";

export * from "../model/stack-config.js";

/** Reads and validates the running stack's config into its environment model (the stack name is the environment). */
export function loadEnvironment(): EnvironmentModel {
  const stack = pulumi.getStack();
  return environmentModel(stack, parseStackConfigMap(stack, pulumi.runtime.allConfig()));
}
