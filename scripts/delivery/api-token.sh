#!/usr/bin/env bash
# api-token.sh <namespace> <file>: writes one of the API's bearer tokens (the first of API_TOKENS in
# the app-secrets Secret the stack generates) to <file>, mode 0600, and masks it in the job's log.
set -euo pipefail
namespace="${1:?usage: api-token.sh <namespace> <file>}"
file="${2:?usage: api-token.sh <namespace> <file>}"
tokens="$(kubectl -n "$namespace" get secret app-secrets -o jsonpath='{.data.API_TOKENS}' | base64 -d)"
token="${tokens%%,*}"
[ -n "$token" ] || { echo "app-secrets in $namespace holds no API_TOKENS" >&2; exit 1; }
echo "::add-mask::$token"
umask 077
printf '%s\n' "$token" > "$file"
