#!/usr/bin/env bash
# A throwaway pgbouncer on loopback, in transaction pooling mode (as in production),
# in front of a PostgreSQL that trusts local connections. Used by CI stages and
# failure drills: several can run at once, one per NAME.
#
#   pgbouncer.sh start  NAME PORT [PG_HOST] [PG_PORT]   listen on 127.0.0.1:PORT
#   pgbouncer.sh stop   NAME                            immediate shutdown (clients see the database go away)
#   pgbouncer.sh pause  NAME                            hold every new query (a hung dependency)
#   pgbouncer.sh resume NAME
#
# Every database name is passed through to PostgreSQL as user postgres. State and
# log live in $SERVICES_DIR/pgbouncer-NAME (default /tmp/inkwell-services).
set -euo pipefail

cmd=${1:?usage: pgbouncer.sh start|stop|pause|resume NAME ...}
name=${2:?NAME required}
dir="${SERVICES_DIR:-/tmp/inkwell-services}/pgbouncer-$name"
ini="$dir/pgbouncer.ini"

# pgbouncer refuses to run as root: run it as the postgres user when we are root.
as_service_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

admin() {
  local port
  port=$(sed -n 's/^listen_port = //p' "$ini")
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d pgbouncer -c "$1" >/dev/null
}

case "$cmd" in
  start)
    port=${3:?PORT required}
    pg_host=${4:-127.0.0.1}
    pg_port=${5:-5432}
    mkdir -p "$dir"
    cat >"$ini" <<INI
[databases]
* = host=$pg_host port=$pg_port user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
; node-postgres may send these at connect; transaction pooling cannot keep session settings.
ignore_startup_parameters = extra_float_digits,options,statement_timeout,idle_in_transaction_session_timeout
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    echo '"postgres" ""' >"$dir/userlist.txt"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    as_service_user pgbouncer -d "$ini"
    for _ in $(seq 1 50); do
      pg_isready -q -h 127.0.0.1 -p "$port" -d pgbouncer -U postgres && exit 0
      sleep 0.1
    done
    echo "pgbouncer $name did not start; log:" >&2
    cat "$dir/pgbouncer.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -f "$dir/pgbouncer.pid" ] || exit 0
    pid=$(cat "$dir/pgbouncer.pid")
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  pause) admin 'PAUSE' ;;
  resume) admin 'RESUME' ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
