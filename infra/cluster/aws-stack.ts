/**
 * The environment's AWS stack, read through a StackReference (`<org>/platform/<env>`): everything
 * the cluster stack needs of AWS comes from its outputs (infra/contract.ts), the secret ones as
 * secrets. On the deploy runner the cluster deploy role may read exactly that stack's state.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentModel } from "../../model/environments.js";
import { SECRET_OUTPUTS, awsStackName } from "../contract.js";
import type { AwsStackOutputs } from "../contract.js";

export interface AwsStack {
  readonly name: string;
  /** A required output of the AWS stack (a secret for SECRET_OUTPUTS). */
  output<K extends keyof AwsStackOutputs>(key: K): pulumi.Output<NonNullable<AwsStackOutputs[K]>>;
  /** An output the AWS stack exports only in some environments. */
  optional<K extends keyof AwsStackOutputs>(key: K): pulumi.Output<AwsStackOutputs[K] | undefined>;
}

export function awsStack(env: EnvironmentModel): AwsStack {
  const name = awsStackName(pulumi.getOrganization(), env.name);
  const ref = new pulumi.StackReference(`${env.name}-aws-stack`, { name });
  const secret = (key: keyof AwsStackOutputs) => (SECRET_OUTPUTS as readonly string[]).includes(key);
  return {
    name,
    output: (key) => {
      const out = ref.requireOutput(key) as pulumi.Output<never>;
      return secret(key) ? pulumi.secret(out) : out;
    },
    optional: (key) => {
      const out = ref.getOutput(key) as pulumi.Output<never>;
      return secret(key) ? pulumi.secret(out) : out;
    },
  };
}
