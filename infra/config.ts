/**
 * The running stack's configuration, for `pulumi up`: read from the engine and validated by the
 * environment model's schema (model/stack-config.ts), the same code path that reads the committed
 * Pulumi.<stack>.yaml files for synth and the tests. A bad value fails with the key's name before
 * anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { environmentModel } from "../model/environments.js";
import type { EnvironmentModel } from "../model/environments.js";
import { CONFIG_NAMESPACE, parseStackConfigMap } from "../model/stack-config.js";

export * from "../model/stack-config.js";

/** Reads and validates the running stack's config into its environment model (the stack name is the environment). */
export function loadEnvironment(): EnvironmentModel {
  const stack = pulumi.getStack();
  return environmentModel(stack, parseStackConfigMap(stack, pulumi.runtime.allConfig()));
}

/**
 * Secrets operators set with `pulumi config set --secret` (never committed in clear text):
 * Alertmanager's Slack webhook, SMTP password and heartbeat token. The PagerDuty routing key is
 * not one of them: the prod stack creates it with the service, and prod-dr reads it from prod.
 */
export interface OperatorSecrets {
  readonly slackWebhookUrl: pulumi.Input<string>;
  readonly smtpPassword: pulumi.Input<string>;
  readonly heartbeatToken: pulumi.Input<string>;
}

export function loadOperatorSecrets(): OperatorSecrets {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  return {
    slackWebhookUrl: config.requireSecret("slackWebhookUrl"),
    smtpPassword: config.requireSecret("smtpPassword"),
    heartbeatToken: config.requireSecret("heartbeatToken"),
  };
}
