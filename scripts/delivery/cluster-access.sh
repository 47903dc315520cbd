#!/usr/bin/env bash
# cluster-access.sh <stack> <region>: a kubeconfig for the stack's EKS cluster, for the credentials
# the job assumed (the `<stack>-deploy-cluster` role), written to $RUNNER_TEMP/kubeconfig and exported
# as KUBECONFIG for the job's later steps. The cluster's name is an output of the stack's AWS
# project (`platform`), which the cluster deploy role may read.
set -euo pipefail
stack="${1:?usage: cluster-access.sh <stack> <region>}"
region="${2:?usage: cluster-access.sh <stack> <region>}"
cluster="$(pulumi stack output clusterName --stack "$stack")"
[ -n "$cluster" ] || { echo "the AWS stack $stack exports no clusterName" >&2; exit 1; }
kubeconfig="${RUNNER_TEMP:?}/kubeconfig"
aws eks update-kubeconfig --name "$cluster" --region "$region" --kubeconfig "$kubeconfig" --alias "$stack"
chmod 0600 "$kubeconfig"
echo "KUBECONFIG=$kubeconfig" >> "${GITHUB_ENV:?}"
