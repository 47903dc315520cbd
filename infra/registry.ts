/**
 * The container registry: the application image and the ops image (`<repo>-ops`, the CronJobs'
 * and the migration's commands) in ECR repositories of this stack's account, derived from the
 * caller's account rather than configured, with immutable tags, scan on push, KMS encryption and a
 * lifecycle that keeps the newest 100 images. platform:app.imageRepository overrides this with an
 * existing registry (validated: an ECR URL, never the documentation placeholder account).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";

export interface Registry {
  /** The application image repository URL (…/product); the ops image is `${repository}-ops`. */
  readonly repository: pulumi.Output<string>;
  /** ARNs of the repositories this stack owns (the image-push role's resources); empty with an override. */
  readonly repositoryArns: pulumi.Output<string>[];
}

const KEEP_IMAGES = 100;

export function registry(ctx: PlatformContext): Registry {
  const { cfg, prefix } = ctx;
  if (cfg.app.imageRepository !== undefined) return { repository: pulumi.output(cfg.app.imageRepository), repositoryArns: [] };
  const opts = { provider: ctx.aws };
  const key = new aws.kms.Key(`${prefix}-ecr`, { description: `${prefix} container images`, enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(ctx, "ecr-key") }, opts);
  const repos = ["product", "product-ops"].map((image) => {
    const repo = new aws.ecr.Repository(
      `${prefix}-${image}`,
      {
        name: `${prefix}/${image}`,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
        forceDelete: cfg.environment === "dev",
        tags: tags(ctx, `ecr-${image}`),
      },
      opts,
    );
    new aws.ecr.LifecyclePolicy(
      `${prefix}-${image}`,
      {
        repository: repo.name,
        policy: JSON.stringify({ rules: [{ rulePriority: 1, description: `keep the newest ${KEEP_IMAGES} images`, selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: KEEP_IMAGES }, action: { type: "expire" } }] }),
      },
      opts,
    );
    return repo;
  });
  return { repository: repos[0]!.repositoryUrl, repositoryArns: repos.map((r) => r.arn) };
}
