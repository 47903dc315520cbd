/**
 * What every component receives: the validated config, the tags every resource carries and the
 * AWS providers for the stack's region and the second region. Tags are applied through `tags()`
 * and `labels()` so every taggable resource carries `environment` and `owner`.
 */
import * as aws from "@pulumi/aws";
import type { EnvironmentModel } from "../model/environments.js";
import type { StackConfig } from "./config.js";

export interface PlatformContext {
  /** The environment this stack deploys (model/environments.ts). */
  readonly env: EnvironmentModel;
  /** Its validated stack config (env.config). */
  readonly cfg: StackConfig;
  /** Resource name prefix: the environment's name (prod-dr on the standby). */
  readonly prefix: string;
  /** Provider for cfg.region (the stack's own region). */
  readonly aws: aws.Provider;
  /** Provider for cfg.secondaryRegion (backup copies, replicated backups). */
  readonly awsSecondary: aws.Provider;
}

/** The tags every AWS resource carries. */
export function baseTags(cfg: StackConfig): Record<string, string> {
  return { environment: cfg.environment, owner: cfg.owner, project: "platform", "managed-by": "pulumi", "dr-role": cfg.dr.role };
}

/** AWS tags for one resource: the base tags plus a Name. */
export function tags(ctx: PlatformContext, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...baseTags(ctx.cfg), Name: `${ctx.prefix}-${name}`, ...extra };
}

/** Kubernetes labels every object carries (the same environment/owner as the AWS tags). */
export function labels(cfg: StackConfig, extra: Record<string, string> = {}): Record<string, string> {
  return { environment: cfg.environment, owner: cfg.owner, "app.kubernetes.io/part-of": "platform", "app.kubernetes.io/managed-by": "pulumi", ...extra };
}

export function createContext(env: EnvironmentModel): PlatformContext {
  const cfg = env.config;
  const prefix = env.name;
  const defaultTags = { tags: baseTags(cfg) };
  return {
    env,
    cfg,
    prefix,
    aws: new aws.Provider(`${prefix}-aws`, { region: cfg.region, defaultTags }),
    awsSecondary: new aws.Provider(`${prefix}-aws-secondary`, { region: cfg.secondaryRegion, defaultTags }),
  };
}
