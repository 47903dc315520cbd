/**
 * The cluster stack's inputs: the environment is the committed root stack file of the stack's name
 * (model/environments.ts, the same model the AWS stack was deployed from), and the secrets are the
 * cluster stack's own (`platform-cluster:` keys, model/stack-config.ts CLUSTER_SECRET_KEYS).
 */
import * as pulumi from "@pulumi/pulumi";
import { environment, parseEnvironmentName } from "../../model/environments.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { CLUSTER_CONFIG_NAMESPACE, CLUSTER_SECRET_KEYS } from "../../model/stack-config.js";
import type { ClusterSecretKey } from "../../model/stack-config.js";

/** The environment this cluster stack deploys: the one its stack is named after. */
export function loadClusterEnvironment(): EnvironmentModel {
  return environment(parseEnvironmentName(pulumi.getStack()));
}

/** Alertmanager's Slack webhook, SMTP password and heartbeat token (stack secrets). */
export type ClusterSecrets = Record<ClusterSecretKey, pulumi.Input<string>>;

export function loadClusterSecrets(): ClusterSecrets {
  const config = new pulumi.Config(CLUSTER_CONFIG_NAMESPACE);
  return Object.fromEntries(CLUSTER_SECRET_KEYS.map((k) => [k, config.requireSecret(k)])) as unknown as ClusterSecrets;
}
