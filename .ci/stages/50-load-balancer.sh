#!/usr/bin/env bash
# Failure drills behind a real load balancer (issue 7): HAProxy from Debian in
# front of two API instances, each with its own pgbouncer before PostgreSQL.
# (a) rolling restart under load, (b) one instance loses its database, (c) a hung
# dependency cut by the request deadline. The measured figures are printed as
# `drill:` lines. Runs in about two minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends haproxy pgbouncer postgresql-client >/dev/null
# The packages' own services are not used (policy-rc.d usually keeps them from
# starting; the drills use their own ports either way).

bash .ci/ensure-services.sh

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export TMPDIR="$PWD/.tmp/lb-stage-tmp"
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT

node --import tsx --test --test-reporter=spec --test-timeout=240000 test/ops/lb/load-balancer.lb.ts
