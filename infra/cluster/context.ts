/**
 * What every component of the cluster project receives: the environment, the Kubernetes provider
 * built from the AWS stack's cluster outputs (token from `aws eks get-token` with the deploy
 * role's credentials, never a static secret), an AWS provider for the few AWS objects that depend
 * on Kubernetes (the API's failover record points at the load balancer a Service creates), and the
 * AWS stack's outputs.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentModel } from "../../model/environments.js";
import type { StackConfig } from "../config.js";
import { baseTags } from "../context.js";
import type { AwsStack } from "./aws-stack.js";

export interface ClusterContext {
  readonly env: EnvironmentModel;
  readonly cfg: StackConfig;
  readonly prefix: string;
  readonly k8s: k8s.Provider;
  readonly aws: aws.Provider;
  readonly stack: AwsStack;
}

/** The kubeconfig for the k8s provider: token from `aws eks get-token`, never a static secret. */
export function kubeconfig(name: string, endpoint: string, caData: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": caData } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [{ name, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", name, "--region", region], interactiveMode: "Never" } } }],
  });
}

export function createClusterContext(env: EnvironmentModel, stack: AwsStack): ClusterContext {
  const cfg = env.config;
  const prefix = env.name;
  const k8sProvider = new k8s.Provider(`${prefix}-k8s`, {
    kubeconfig: pulumi.all([stack.output("clusterName"), stack.output("clusterEndpoint"), stack.output("clusterCertificateAuthority")]).apply(([name, endpoint, ca]) => kubeconfig(name, endpoint, ca, cfg.region)),
    enableServerSideApply: true,
  });
  return { env, cfg, prefix, k8s: k8sProvider, aws: new aws.Provider(`${prefix}-aws`, { region: cfg.region, defaultTags: { tags: baseTags(cfg) } }), stack };
}
