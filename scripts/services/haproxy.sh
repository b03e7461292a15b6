#!/usr/bin/env bash
# HAProxy on loopback with a given configuration, in master-worker mode, logging
# to a file. Used by CI stages and failure drills; one per NAME.
#
#   haproxy.sh start NAME CONFIG    (the config may read environment variables)
#   haproxy.sh stop  NAME
#
# State and log live in $SERVICES_DIR/haproxy-NAME (default /tmp/inkwell-services).
set -euo pipefail

cmd=${1:?usage: haproxy.sh start|stop NAME [CONFIG]}
name=${2:?NAME required}
dir="${SERVICES_DIR:-/tmp/inkwell-services}/haproxy-$name"

case "$cmd" in
  start)
    config=${3:?CONFIG required}
    mkdir -p "$dir"
    haproxy -c -q -f "$config"
    # Foreground master-worker, detached here, so that `log stdout` lands in the file.
    nohup haproxy -W -f "$config" -p "$dir/haproxy.pid" >"$dir/haproxy.log" 2>&1 </dev/null &
    for _ in $(seq 1 50); do
      [ -s "$dir/haproxy.pid" ] && kill -0 "$(head -n1 "$dir/haproxy.pid")" 2>/dev/null && exit 0
      sleep 0.1
    done
    echo "haproxy $name did not start; log:" >&2
    cat "$dir/haproxy.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -f "$dir/haproxy.pid" ] || exit 0
    pid=$(head -n1 "$dir/haproxy.pid")
    # SIGUSR1 = soft stop: finish the connections in progress, then exit.
    kill -USR1 "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
