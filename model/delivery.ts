/**
 * Names the delivery path shares: the images the workflows build (and the tests hold to the
 * manifests that run them), and the signal a frontend deployment leaves behind for monitoring.
 */

/**
 * The two images, as infra references them: `<repo>:<tag>` and `<repo>-ops:<tag>`, tagged with the
 * git SHA. `repositorySuffix` is what follows the application repository's name.
 */
export const IMAGES = {
  app: { dockerfile: "Dockerfile", repositorySuffix: "" },
  ops: { dockerfile: "Dockerfile.ops", repositorySuffix: "-ops" },
} as const;

export type ImageName = keyof typeof IMAGES;

/** The reusable workflow the frontend's repository calls to deploy a build (.github/workflows). */
export const FRONTEND_DEPLOY_WORKFLOW = "deploy-frontend.yml";

/**
 * The outcome of every frontend deployment (.github/workflows/deploy-frontend.yml), written as a
 * CloudWatch custom metric by the deploying workflow itself: 1 when the deployment failed (or was
 * cancelled half-way), 0 when it succeeded, with the environment as its dimension. The CloudWatch
 * exporter turns it into `<namespace>_<metric>_<statistic>` in snake case, which
 * FrontendDeploymentFailed watches: the latest deployment of the environment failed.
 */
export const FRONTEND_DEPLOY_SIGNAL = {
  namespace: "ProductPlatform/Delivery",
  metricName: "FrontendDeploymentFailed",
  dimension: "Environment",
  statistic: "Maximum",
  unit: "Count",
  failed: 1,
  succeeded: 0,
} as const;
