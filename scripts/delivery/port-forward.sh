#!/usr/bin/env bash
# port-forward.sh start <name> <namespace> <target> <local-port>:<remote-port>
# port-forward.sh stop <name>
# A kubectl port-forward in the background (to a Service the internet cannot reach: the metrics
# listener, Alertmanager), waiting until its local port accepts connections; stop ends it.
set -euo pipefail
state="${RUNNER_TEMP:?}/port-forward"
mkdir -p "$state"
case "${1:-}" in
  start)
    name="${2:?name}"; namespace="${3:?namespace}"; target="${4:?target}"; ports="${5:?local:remote}"
    local_port="${ports%%:*}"
    if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then exit 0; fi
    kubectl -n "$namespace" port-forward "$target" "$ports" > "$state/$name.log" 2>&1 &
    echo $! > "$state/$name.pid"
    for _ in $(seq 1 60); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$local_port") 2>/dev/null; then exit 0; fi
      if ! kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then break; fi
      sleep 0.5
    done
    echo "port-forward $name to $namespace/$target did not come up:" >&2
    cat "$state/$name.log" >&2
    exit 1
    ;;
  stop)
    name="${2:?name}"
    if [ -f "$state/$name.pid" ]; then kill "$(cat "$state/$name.pid")" 2>/dev/null || true; rm -f "$state/$name.pid"; fi
    ;;
  *)
    echo "usage: port-forward.sh start <name> <namespace> <target> <local>:<remote> | stop <name>" >&2
    exit 2
    ;;
esac
