/**
 * Cluster operators whose CRDs the workloads use, each installed by its own Helm release so
 * everything using a CRD can depend on the release that installs it: KEDA (ScaledObject,
 * TriggerAuthentication), Argo Rollouts (Rollout, AnalysisTemplate) and the AWS Load Balancer
 * Controller (the API's internet-facing NLB; its IAM role, with AWS's published policy, is the AWS
 * stack's and reaches it through the irsaRoleArns output).
 *
 * The Argo Rollouts controller's metrics (rollout_info, rollout_info_replicas_*) are scraped through
 * the chart's ServiceMonitor, so its release waits for the Prometheus Operator CRDs.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { IRSA_ANNOTATION, IRSA_SERVICE_ACCOUNTS } from "../service-accounts.js";
import type { ClusterContext } from "./context.js";
import { CHARTS, helmLabels, meta, release } from "./k8s.js";

export interface Addons {
  readonly keda: k8s.helm.v3.Release;
  readonly argoRollouts: k8s.helm.v3.Release;
  readonly loadBalancerController: k8s.helm.v3.Release;
}

export interface AddonsArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly loadBalancerControllerRoleArn: pulumi.Input<string>;
  /** The Prometheus Operator CRD release (monitoring.ts): charts creating ServiceMonitors wait for it. */
  readonly monitoringCrds: pulumi.Resource;
}

/**
 * Metric relabelling for the Argo Rollouts controller's ServiceMonitor (the chart has no
 * honorLabels): the target's `namespace` (argo-rollouts) would push the Rollout's own namespace
 * label to `exported_namespace`; this puts it back in `namespace`, where the alert rules match it.
 */
export const ROLLOUT_METRIC_RELABELINGS = [
  { sourceLabels: ["exported_namespace"], regex: "(.+)", targetLabel: "namespace", replacement: "$1", action: "replace" },
  { regex: "exported_namespace", action: "labeldrop" },
];

export function addons(ctx: ClusterContext, args: AddonsArgs): Addons {
  const { cfg, prefix } = ctx;
  const labels = helmLabels(cfg);
  const opts = { provider: ctx.k8s };
  const ns = (name: string) => new k8s.core.v1.Namespace(`${prefix}-ns-${name}`, { metadata: meta(cfg, name, undefined) }, opts);

  const kedaNs = ns("keda");
  const keda = release("keda", CHARTS.keda, { namespace: kedaNs.metadata.name, labels, values: { prometheus: { operator: { enabled: true }, metricServer: { enabled: true } } } }, { ...opts, dependsOn: [kedaNs] });

  const argoNs = ns("argo-rollouts");
  const argoRollouts = release(
    "argo-rollouts",
    CHARTS.argoRollouts,
    {
      namespace: argoNs.metadata.name,
      labels,
      values: { installCRDs: true, controller: { replicas: 2, metrics: { enabled: true, serviceMonitor: { enabled: true, metricRelabelings: ROLLOUT_METRIC_RELABELINGS } } } },
    },
    { ...opts, dependsOn: [argoNs, args.monitoringCrds] },
  );

  const lbcSa = IRSA_SERVICE_ACCOUNTS.loadBalancerController;
  const loadBalancerController = release(
    "aws-load-balancer-controller",
    CHARTS.awsLoadBalancerController,
    {
      namespace: lbcSa.namespace,
      labels,
      values: {
        clusterName: args.clusterName,
        // Explicit region and VPC: with IMDSv2 at hop limit 1 the controller cannot read them from the node.
        region: cfg.region,
        vpcId: args.vpcId,
        serviceAccount: { create: true, name: lbcSa.name, annotations: { [IRSA_ANNOTATION]: args.loadBalancerControllerRoleArn } },
      },
    },
    opts,
  );
  return { keda, argoRollouts, loadBalancerController };
}
