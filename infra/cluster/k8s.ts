/** Small helpers for Kubernetes objects: standard metadata and pinned Helm charts. */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { labels } from "../context.js";
import type { StackConfig } from "../config.js";

/** Metadata with the standard labels (environment, owner) plus the object's own. */
export function meta(cfg: StackConfig, name: string, namespace: pulumi.Input<string> | undefined, extra: Record<string, string> = {}, annotations?: Record<string, pulumi.Input<string>>) {
  return { name, ...(namespace !== undefined ? { namespace } : {}), labels: labels(cfg, extra), ...(annotations ? { annotations } : {}) };
}

/**
 * Charts and versions, pinned: upgrades are deliberate, reviewed changes. `labelValues` are the
 * value paths where the chart accepts extra labels for its objects; release() puts the standard
 * environment/owner labels there (prometheus-operator-crds has none: it only ships CRDs).
 */
export const CHARTS = {
  prometheusOperatorCrds: { chart: "prometheus-operator-crds", version: "22.0.1", repo: "https://prometheus-community.github.io/helm-charts", labelValues: [] },
  kubePrometheusStack: { chart: "kube-prometheus-stack", version: "75.15.1", repo: "https://prometheus-community.github.io/helm-charts", labelValues: ["commonLabels"] },
  postgresExporter: { chart: "prometheus-postgres-exporter", version: "6.10.2", repo: "https://prometheus-community.github.io/helm-charts", labelValues: ["deployment.labels", "podLabels", "serviceMonitor.labels"] },
  cloudwatchExporter: { chart: "prometheus-cloudwatch-exporter", version: "0.27.0", repo: "https://prometheus-community.github.io/helm-charts", labelValues: ["deployment.labels", "pod.labels", "service.labels", "serviceMonitor.labels"] },
  rabbitmqExporter: { chart: "prometheus-rabbitmq-exporter", version: "2.1.1", repo: "https://prometheus-community.github.io/helm-charts", labelValues: ["additionalLabels", "podLabels", "prometheus.monitor.additionalLabels"] },
  blackboxExporter: { chart: "prometheus-blackbox-exporter", version: "11.15.1", repo: "https://prometheus-community.github.io/helm-charts", labelValues: ["commonLabels", "pod.labels"] },
  keda: { chart: "keda", version: "2.17.2", repo: "https://kedacore.github.io/charts", labelValues: ["additionalLabels", "podLabels.keda", "podLabels.metricsAdapter", "podLabels.webhooks"] },
  argoRollouts: { chart: "argo-rollouts", version: "2.40.1", repo: "https://argoproj.github.io/argo-helm", labelValues: ["global.deploymentLabels", "podLabels", "controller.metrics.serviceMonitor.additionalLabels"] },
  awsLoadBalancerController: { chart: "aws-load-balancer-controller", version: "1.13.3", repo: "https://aws.github.io/eks-charts", labelValues: ["additionalLabels", "podLabels"] },
} as const;

export type ChartRef = (typeof CHARTS)[keyof typeof CHARTS];

/**
 * The labels a Helm release's objects carry: environment and owner only (the charts set their own
 * app.kubernetes.io/* labels, managed-by included).
 */
export function helmLabels(cfg: StackConfig): Record<string, string> {
  return { environment: cfg.environment, owner: cfg.owner };
}

/** `values` with `labels` merged into the object at each dotted path (existing keys there win). */
export function withLabels(values: Record<string, unknown>, paths: readonly string[], labels: Record<string, string>): Record<string, unknown> {
  const put = (obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> => {
    const [key, ...rest] = keys;
    if (key === undefined) return { ...labels, ...obj };
    const child = obj[key];
    if (child !== undefined && (child === null || typeof child !== "object" || Array.isArray(child))) throw new Error(`Helm value ${key} is not a map, cannot add labels`);
    return { ...obj, [key]: put((child ?? {}) as Record<string, unknown>, rest) };
  };
  return paths.reduce((acc, path) => put(acc, path.split(".")), values);
}

export interface ReleaseArgs {
  readonly namespace: pulumi.Input<string>;
  readonly values: Record<string, unknown>;
  /** The standard labels (helmLabels), put at the chart's labelValues paths. */
  readonly labels: Record<string, string>;
  /** Install the chart's CRDs (false when a dedicated CRD release owns them). */
  readonly installCrds?: boolean;
}

/** A Helm release of a pinned chart; waits until its resources are ready. */
export function release(name: string, chart: ChartRef, args: ReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
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
      values: withLabels(args.values, chart.labelValues, args.labels),
    },
    opts,
  );
}
