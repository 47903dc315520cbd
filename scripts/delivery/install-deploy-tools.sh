#!/usr/bin/env bash
# Installs kubectl and the Argo Rollouts kubectl plugin into <dir> (default $RUNNER_TEMP/bin) and
# puts <dir> on the job's PATH: the deploy runner's tools, at pinned versions, each checked against
# the SHA-256 its release publishes (dl.k8s.io's kubectl.sha256, argo-rollouts-checksums.txt).
# kubectl's minor version is the clusters' (platform:cluster.version); the plugin's version is the
# appVersion of the argo-rollouts chart infra installs (tests/delivery/workflows.test.ts checks both).
set -euo pipefail
KUBECTL_VERSION=v1.33.5
ARGO_ROLLOUTS_VERSION=v1.8.3
dest="${1:-${RUNNER_TEMP:?}/bin}"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

curl -fsSL --retry 3 -o "$tmp/kubectl" "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl"
curl -fsSL --retry 3 -o "$tmp/kubectl.sha256" "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl.sha256"
echo "$(cat "$tmp/kubectl.sha256")  $tmp/kubectl" | sha256sum --check --strict

base="https://github.com/argoproj/argo-rollouts/releases/download/${ARGO_ROLLOUTS_VERSION}"
curl -fsSL --retry 3 -o "$tmp/kubectl-argo-rollouts" "$base/kubectl-argo-rollouts-linux-amd64"
curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/argo-rollouts-checksums.txt"
expected="$(awk '$2 ~ /(^|\/)kubectl-argo-rollouts-linux-amd64$/ { print $1 }' "$tmp/checksums.txt")"
[ -n "$expected" ] || { echo "no checksum for kubectl-argo-rollouts-linux-amd64 in argo-rollouts-checksums.txt" >&2; exit 1; }
echo "$expected  $tmp/kubectl-argo-rollouts" | sha256sum --check --strict

install -m 0755 "$tmp/kubectl" "$tmp/kubectl-argo-rollouts" "$dest/"
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >> "$GITHUB_PATH"; fi
"$dest/kubectl" version --client
"$dest/kubectl-argo-rollouts" version --short
