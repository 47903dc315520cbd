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

/**
 * How the CloudWatch exporter (infra/cluster/monitoring.ts cloudwatchExporterConfig) reads the
 * frontend deployments' outcome (FRONTEND_DEPLOY_SIGNAL), written once per deployment: the newest
 * datapoint of the last 14 days, so a failed deployment stays failed (and
 * FrontendDeploymentFailed firing) until a later one succeeds, not until its datapoint ages out.
 * - period 60 s: Maximum per minute, so a failure and the successful re-run after it fall in
 *   different buckets (the deployments of an environment run one at a time and take minutes);
 * - range 14 days: CloudWatch keeps one-minute data 15 days and ListMetrics (the exporter's
 *   dimension discovery) lists a metric for two weeks after its last datapoint; past that no
 *   deployment for 14 days means no series, and the alert falls silent;
 * - GetMetricData (newest datapoint first; GetMetricStatistics refuses more than 1,440 datapoints
 *   per request, a day at this period);
 * - set_timestamp false: the sample is exposed at scrape time, since Prometheus rejects samples as
 *   old as the last deployment (the exporter's README, "Timestamps");
 * - delay 60 s: a custom metric needs no convergence time, only ingestion.
 */
export const FRONTEND_DEPLOY_QUERY = { periodSeconds: 60, rangeSeconds: 14 * 24 * 3600, delaySeconds: 60 } as const;
