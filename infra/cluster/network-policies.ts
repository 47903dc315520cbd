/**
 * Default deny in the app namespace, then only what each component needs. Enforced by the VPC
 * CNI's network policy agent (the AWS stack's vpc-cni add-on sets enableNetworkPolicy).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { APP_PORT, METRICS_PORT } from "../../model/workloads.js";
import { MONITORING_NAMESPACE } from "../service-accounts.js";
import type { ClusterContext } from "./context.js";
import { meta } from "./k8s.js";

export function networkPolicies(ctx: ClusterContext, namespace: string, vpcCidr: string, opts: pulumi.CustomResourceOptions): void {
  const { cfg, prefix } = ctx;
  const policy = (n: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
    new k8s.networking.v1.NetworkPolicy(`${prefix}-netpol-${n}`, { metadata: meta(cfg, n, namespace), spec }, opts);
  const tcp = (port: number) => ({ protocol: "TCP", port });
  policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  policy("allow-dns", {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [{ protocol: "UDP", port: 53 }, tcp(53)] }],
  });
  // The NLB forwards client traffic to the API pods' IPs (ip targets keep the client address): the application port only.
  policy("allow-api-ingress", { podSelector: { matchLabels: { "app.kubernetes.io/component": "api" } }, policyTypes: ["Ingress"], ingress: [{ ports: [tcp(APP_PORT)] }] });
  // Prometheus scrapes the metrics listener of every process, from the monitoring namespace only.
  policy("allow-prometheus-scrape", {
    podSelector: {},
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } } }], ports: [tcp(METRICS_PORT)] }],
  });
  // PostgreSQL and RabbitMQ live in the VPC; AWS APIs (S3, RDS, STS) and the translation/store APIs
  // are HTTPS; importers and source checks fetch product pages over HTTP(S).
  policy("allow-egress-data", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [tcp(5432), tcp(5671), tcp(443)] }] });
  policy("allow-egress-https", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }], ports: [tcp(443)] }] });
  policy("allow-egress-http-fetchers", {
    podSelector: { matchExpressions: [{ key: "jobs.platform/type", operator: "In", values: ["import", "source_check", "image"] }] },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }], ports: [tcp(80)] }],
  });
}
