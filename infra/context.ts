/**
 * What every component of the AWS project receives: the validated config, the tags every resource
 * carries and the AWS providers: the stack's region, the second region (backup copies, replicated
 * dumps, the DR replica's source) and us-east-1 (CloudFront's certificate must live there). Tags are
 * applied through `tags()` and `labels()` so every taggable resource carries `environment` and `owner`.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentModel } from "../model/environments.js";
import type { StackConfig } from "./config.js";
import { CLOUDFRONT_CERTIFICATE_REGION } from "./settings.js";

export interface PlatformContext {
  /** The environment this stack deploys (model/environments.ts). */
  readonly env: EnvironmentModel;
  /** Its validated stack config (env.config). */
  readonly cfg: StackConfig;
  /** Resource name prefix: the environment's name (prod-dr on the standby). */
  readonly prefix: string;
  /** Provider for cfg.region (the stack's own region). */
  readonly aws: aws.Provider;
  /** Provider for cfg.secondaryRegion (backup copies, replicated dumps and backups). */
  readonly awsSecondary: aws.Provider;
  /** Provider for us-east-1 (CloudFront's ACM certificate). */
  readonly awsGlobal: aws.Provider;
  /** The AWS account the stack deploys into (the caller's: aws.getCallerIdentity). */
  readonly accountId: pulumi.Output<string>;
}

/** The tags every AWS resource carries. */
export function baseTags(cfg: StackConfig): Record<string, string> {
  return { environment: cfg.environment, owner: cfg.owner, project: "platform", "managed-by": "pulumi", "dr-role": cfg.dr.role };
}

/** AWS tags for one resource: the base tags plus a Name. */
export function tags(ctx: { readonly cfg: StackConfig; readonly prefix: string }, name: string, extra: Record<string, string> = {}): Record<string, string> {
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
  const provider = new aws.Provider(`${prefix}-aws`, { region: cfg.region, defaultTags });
  return {
    env,
    cfg,
    prefix,
    aws: provider,
    awsSecondary: new aws.Provider(`${prefix}-aws-secondary`, { region: cfg.secondaryRegion, defaultTags }),
    awsGlobal: new aws.Provider(`${prefix}-aws-${CLOUDFRONT_CERTIFICATE_REGION}`, { region: CLOUDFRONT_CERTIFICATE_REGION, defaultTags }),
    accountId: aws.getCallerIdentityOutput({}, { provider }).accountId,
  };
}
