#!/usr/bin/env bash
# rollback.sh <stack> <namespace> <rollout> <previous-tag>: a failed canary analysis, rollout or
# smoke test sends the environment back to the version it ran before this deploy:
#   1. abort the Rollout: all traffic returns to the stable ReplicaSet at once;
#   2. redeploy the previous tag with Pulumi (the cluster project): the Rollout, the workers and the
#      scheduler go back to it, so the cluster matches the stack again (its migration Job re-runs
#      the previous release's migrations, which are already applied: nothing changes);
#   3. wait until the Rollout is Healthy on the previous tag.
# Migrations are never rolled back (procedures/rollback.md): releases are expand-only.
set -euo pipefail
stack="${1:?usage: rollback.sh <stack> <namespace> <rollout> <previous-tag>}"
namespace="${2:?namespace}"
rollout="${3:?rollout}"
previous="${4:?previous tag}"
echo "::warning::rolling $stack back to $previous"
kubectl argo rollouts abort "$rollout" -n "$namespace" || echo "abort: the Rollout was not progressing"
pulumi config set --path 'platform:app.imageTag' "$previous" --stack "$stack"
pulumi up --yes --stack "$stack" --cwd infra/cluster --message "rollback to $previous"
kubectl argo rollouts status "$rollout" -n "$namespace" --timeout 20m
echo "::error::$stack was rolled back to $previous: the deploy failed (see the failed step above)"
