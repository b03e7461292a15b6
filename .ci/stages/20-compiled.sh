#!/usr/bin/env bash
# The production build: compiles src/ to dist/ (`npm run build`) and runs it the way
# the container does (`node dist/server.js`, `node dist/worker.js`, no tsx), then checks
# the API on the embedded default (readiness, a signed-in write and read) and the
# worker on real PostgreSQL and Redis, and that both exit 0 on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/../.."

npm run build

work=$(mktemp -d "${TMPDIR:-/tmp}/inkwell-compiled-XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "compiled build: $*" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}

# Waits for "<pattern> http://host:port" in a log; prints the URL.
wait_for_url() {
  local log=$1 pattern=$2
  for _ in $(seq 1 150); do
    url=$(grep -o "$pattern http://[0-9.:]*" "$log" | head -1 | grep -o 'http://[0-9.:]*' || true)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    sleep 0.2
  done
  return 1
}

# Sends SIGTERM to a node process and expects exit code 0 within 20 s.
stop_cleanly() {
  local pid=$1 name=$2
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" && return 0
      fail "$name exited non-zero after SIGTERM"
    fi
    sleep 0.2
  done
  fail "$name still running 20 s after SIGTERM"
}

# The API on the embedded default (no DATABASE_URL, no REDIS_URL).
env -u DATABASE_URL -u REDIS_URL DATA_DIR="$work/data" HOST=127.0.0.1 PORT=0 SHUTDOWN_DRAIN_MS=0 \
  node dist/server.js >"$work/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
api=$(wait_for_url "$work/api.log" "listening at") || fail "the API did not start"
curl -fsS "$api/readyz" >/dev/null || fail "/readyz is not ready"
token=$(DATA_DIR="$work/data" node dist/cli/main.js token --sub ci-compiled)
auth=(-H "authorization: Bearer $token")
curl -fsS "${auth[@]}" "$api/v1/me" | grep -q '"username"' || fail "GET /v1/me"
created=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' \
  -d '{"title":"Compiled","body":"Written through the compiled build.","tags":["ci"]}' "$api/v1/stories")
id=$(echo "$created" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
[ -n "$id" ] || fail "POST /v1/stories: $created"
curl -fsS "${auth[@]}" "$api/v1/stories/$id" | grep -q '"title":"Compiled"' || fail "GET /v1/stories/$id"
stop_cleanly "$api_pid" "the API"

# The worker on real PostgreSQL and Redis.
bash .ci/ensure-services.sh
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} REDIS_KEY_PREFIX="ci-compiled-$$:" \
  DATA_DIR="$work/worker-data" HOST=127.0.0.1 WORKER_PORT=0 \
  node dist/worker.js >"$work/worker.log" 2>&1 &
worker_pid=$!
pids+=("$worker_pid")
monitor=$(wait_for_url "$work/worker.log" "monitoring on") || fail "the worker did not start"
curl -fsS "$monitor/healthz" >/dev/null || fail "worker /healthz"
stop_cleanly "$worker_pid" "the worker"
redis-cli --scan --pattern "ci-compiled-$$:*" | xargs -r redis-cli del >/dev/null || true

echo "compiled build: API and worker ran from dist/ and stopped cleanly"
