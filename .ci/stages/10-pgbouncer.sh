#!/usr/bin/env bash
# The services suite again, through pgbouncer 1.18 (Debian 12) in transaction
# pooling mode, as production runs it: named prepared statements off
# (DB_PREPARED_STATEMENTS=false), migrations straight to PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
if ! command -v pgbouncer >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends pgbouncer postgresql-client >/dev/null
fi
bash .ci/ensure-services.sh

PORT=6452
bash scripts/services/pgbouncer.sh start ci-suite "$PORT"
trap 'bash scripts/services/pgbouncer.sh stop ci-suite' EXIT
pgbouncer --version | head -1

DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/test" \
DATABASE_DIRECT_URL=postgres://postgres@127.0.0.1:5432/test \
REDIS_URL=redis://127.0.0.1:6379 \
DB_PREPARED_STATEMENTS=false \
  npm run test:services
