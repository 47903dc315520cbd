#!/usr/bin/env bash
# running-tag.sh <namespace> <rollout>: prints the image tag the API's Rollout runs now (the version
# a failed deploy rolls back to), or nothing when there is no Rollout yet (a first deploy).
set -euo pipefail
namespace="${1:?usage: running-tag.sh <namespace> <rollout>}"
rollout="${2:?usage: running-tag.sh <namespace> <rollout>}"
image="$(kubectl -n "$namespace" get rollout "$rollout" --ignore-not-found -o "jsonpath={.spec.template.spec.containers[?(@.name==\"$rollout\")].image}")"
if [ -n "$image" ]; then printf '%s\n' "${image##*:}"; fi
