/**
 * Cluster operators whose CRDs the workloads use, each installed by its own Helm release so
 * everything using a CRD can depend on the release that installs it: KEDA (ScaledObject,
 * TriggerAuthentication), Argo Rollouts (Rollout, AnalysisTemplate) and the AWS Load Balancer
 * Controller (the API's internet-facing NLB).
 *
 * The Argo Rollouts controller's metrics (rollout_info, rollout_info_replicas_*) are scraped through
 * the chart's ServiceMonitor, so its release waits for the Prometheus Operator CRDs.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "./context.js";
import { irsaRole, policyDocument } from "./cluster.js";
import type { Cluster } from "./cluster.js";
import { CHARTS, helmLabels, meta, release } from "./k8s.js";

export interface Addons {
  readonly keda: k8s.helm.v3.Release;
  readonly argoRollouts: k8s.helm.v3.Release;
  readonly loadBalancerController: k8s.helm.v3.Release;
}

export interface AddonsArgs {
  readonly vpcId: pulumi.Input<string>;
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

export function addons(ctx: PlatformContext, cluster: Cluster, args: AddonsArgs): Addons {
  const { cfg, prefix } = ctx;
  const labels = helmLabels(cfg);
  const opts = { provider: cluster.provider, dependsOn: cluster.ready };
  const ns = (name: string) => new k8s.core.v1.Namespace(`${prefix}-ns-${name}`, { metadata: meta(cfg, name, undefined) }, opts);

  const kedaNs = ns("keda");
  const keda = release("keda", CHARTS.keda, { namespace: kedaNs.metadata.name, labels, values: { prometheus: { operator: { enabled: true }, metricServer: { enabled: true } } } }, { ...opts, dependsOn: [...cluster.ready, kedaNs] });

  const argoNs = ns("argo-rollouts");
  const argoRollouts = release(
    "argo-rollouts",
    CHARTS.argoRollouts,
    {
      namespace: argoNs.metadata.name,
      labels,
      values: { installCRDs: true, controller: { replicas: 2, metrics: { enabled: true, serviceMonitor: { enabled: true, metricRelabelings: ROLLOUT_METRIC_RELABELINGS } } } },
    },
    { ...opts, dependsOn: [...cluster.ready, argoNs, args.monitoringCrds] },
  );

  const lbcRole = irsaRole(ctx, cluster, "aws-load-balancer-controller", "kube-system", "aws-load-balancer-controller", {
    managedPolicies: ["arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess"],
    inline: policyDocument([
      {
        Action: [
          "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways", "ec2:DescribeVpcs",
          "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags",
          "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteSecurityGroup",
          "acm:DescribeCertificate", "acm:ListCertificates",
        ],
        Resource: "*",
      },
    ]),
  });
  const loadBalancerController = release(
    "aws-load-balancer-controller",
    CHARTS.awsLoadBalancerController,
    {
      namespace: "kube-system",
      labels,
      values: {
        clusterName: cluster.name,
        region: cfg.region,
        vpcId: args.vpcId,
        serviceAccount: { name: "aws-load-balancer-controller", annotations: { "eks.amazonaws.com/role-arn": lbcRole.arn } },
      },
    },
    opts,
  );
  return { keda, argoRollouts, loadBalancerController };
}
