/** Small helpers for Kubernetes objects: standard metadata and pinned Helm charts. */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { labels } from "./context.js";
import type { StackConfig } from "./config.js";

/** Metadata with the standard labels (environment, owner) plus the object's own. */
export function meta(cfg: StackConfig, name: string, namespace: pulumi.Input<string> | undefined, extra: Record<string, string> = {}, annotations?: Record<string, pulumi.Input<string>>) {
  return { name, ...(namespace !== undefined ? { namespace } : {}), labels: labels(cfg, extra), ...(annotations ? { annotations } : {}) };
}

/** Charts and versions, pinned: upgrades are deliberate, reviewed changes. */
export const CHARTS = {
  prometheusOperatorCrds: { chart: "prometheus-operator-crds", version: "22.0.1", repo: "https://prometheus-community.github.io/helm-charts" },
  kubePrometheusStack: { chart: "kube-prometheus-stack", version: "75.15.1", repo: "https://prometheus-community.github.io/helm-charts" },
  postgresExporter: { chart: "prometheus-postgres-exporter", version: "6.10.2", repo: "https://prometheus-community.github.io/helm-charts" },
  cloudwatchExporter: { chart: "prometheus-cloudwatch-exporter", version: "0.27.0", repo: "https://prometheus-community.github.io/helm-charts" },
  rabbitmqExporter: { chart: "prometheus-rabbitmq-exporter", version: "2.1.1", repo: "https://prometheus-community.github.io/helm-charts" },
  keda: { chart: "keda", version: "2.17.2", repo: "https://kedacore.github.io/charts" },
  argoRollouts: { chart: "argo-rollouts", version: "2.40.1", repo: "https://argoproj.github.io/argo-helm" },
  awsLoadBalancerController: { chart: "aws-load-balancer-controller", version: "1.13.3", repo: "https://aws.github.io/eks-charts" },
} as const;

export interface ReleaseArgs {
  readonly namespace: pulumi.Input<string>;
  readonly values: Record<string, unknown>;
  /** Install the chart's CRDs (false when a dedicated CRD release owns them). */
  readonly installCrds?: boolean;
}

/** A Helm release of a pinned chart; waits until its resources are ready. */
export function release(name: string, chart: (typeof CHARTS)[keyof typeof CHARTS], args: ReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      chart: chart.chart,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      namespace: args.namespace,
      skipCrds: args.installCrds === false,
      atomic: true,
      cleanupOnFail: true,
      timeout: 900,
      values: args.values,
    },
    opts,
  );
}
