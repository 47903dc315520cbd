#!/usr/bin/env bash
# copy-image.sh <source repo@digest> <target repo:tag>: puts the scanned image, with its SBOM and
# provenance attestations, under the same tag in another environment's registry (the registries of
# both are logged in). ECR tags are immutable: a tag that already holds this digest is left alone
# (a re-run), one that holds another digest fails.
set -euo pipefail
source="${1:?usage: copy-image.sh <repo@sha256:...> <repo:tag>}"
target="${2:?usage: copy-image.sh <repo@sha256:...> <repo:tag>}"
want="${source##*@}"
if existing="$(docker buildx imagetools inspect "$target" --format '{{json .Manifest}}' 2>/dev/null)"; then
  have="$(printf '%s' "$existing" | grep -o '"digest": *"sha256:[0-9a-f]*"' | head -1 | grep -o 'sha256:[0-9a-f]*')"
  if [ "$have" = "$want" ]; then echo "$target already holds $want"; exit 0; fi
  echo "::error::$target holds $have, not $want: ECR tags are immutable" >&2
  exit 1
fi
docker buildx imagetools create --tag "$target" "$source"
echo "copied $source to $target"
