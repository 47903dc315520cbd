#!/usr/bin/env bash
# image-ref.sh <registry> <repository> <tag>: prints <registry>/<repository>@<digest> of the tag in
# ECR, or nothing (exit 0) when the tag does not exist yet, so a re-run skips the build it already did.
set -euo pipefail
registry="${1:?usage: image-ref.sh <registry> <repository> <tag>}"
repository="${2:?repository}"
tag="${3:?tag}"
if digest="$(aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text 2>/dev/null)" && [ -n "$digest" ] && [ "$digest" != "None" ]; then
  printf '%s/%s@%s\n' "$registry" "$repository" "$digest"
fi
