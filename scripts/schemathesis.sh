#!/usr/bin/env bash
# Property-based API testing of the identity server with schemathesis: starts
# `miniauth serve` (simulator mode, temporary database, ephemeral loopback port),
# points schemathesis at its /openapi.json, and fails on any 5xx answer or any
# answer that does not match the documented status codes, content types and
# schemas. Bounded: a fixed number of examples per operation and a time budget.
#
#   scripts/schemathesis.sh            # default budget
#   ST_MAX_EXAMPLES=200 ST_MAX_TIME=300 scripts/schemathesis.sh
#   ST_CHECKS=all scripts/schemathesis.sh   # every check schemathesis has
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'schemathesis.sh: %s\n' "$*"; }

max_examples=${ST_MAX_EXAMPLES:-50}
max_time=${ST_MAX_TIME:-90}
seed=${ST_SEED:-}
# Server errors, and answers that break the document: status codes, content
# types, headers and schemas.
checks=${ST_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}

# schemathesis from PyPI, installed once (its CLI is `st`; v4 runs as `st run URL`).
if ! command -v st >/dev/null 2>&1 || ! python3 -m pip show --quiet schemathesis >/dev/null 2>&1; then
  log "installing schemathesis from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check schemathesis
  hash -r
fi

log "building the server"
cargo build --quiet --features server --bin miniauth
binary=target/debug/miniauth

work=$(mktemp -d "${TMPDIR:-/tmp}/miniauth-schemathesis.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Rate limits high enough that schemathesis measures the API, not the limiter
# (429 answers are documented and would still pass the checks).
. scripts/lib/start-server.sh
export MINIAUTH_LOG="${MINIAUTH_LOG:-warn}"
# On the PostgreSQL that scripts/with-postgres.sh started, if it did.
database="$work/miniauth.db"
if [ -n "${MINIAUTH_TEST_POSTGRES:-}" ]; then
  psql -q "$MINIAUTH_TEST_POSTGRES/postgres" -c 'CREATE DATABASE schemathesis'
  database="$MINIAUTH_TEST_POSTGRES/schemathesis"
fi
log "database: ${database%%://*}"
start_server "$binary" "$work/server.out" "$work/server.log" \
  serve --simulator --database "$database" --rate-limit-ip 1000000 --rate-limit-account 1000000
base=$SERVER_URL

# A signed-in user, so that GET /v1/userinfo is tested past its 401 (the
# header goes to every operation; the others ignore it).
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { curl -fsS -H 'content-type: application/json' -d "$2" "$base$1"; }
wx_code=$(post /sim/wx/login '{"openid":"o_schemathesis"}' | json_field code)
state_token=$(post /v1/login/wechat "{\"code\":\"$wx_code\"}" | json_field state_token)
id_token=$(post /v1/register "{\"state_token\":\"$state_token\"}" | json_field id_token)

log "running schemathesis against $base/openapi.json ($max_examples examples per operation, at most ${max_time}s)"
status=0
st run "$base/openapi.json" \
  --url "$base" \
  --checks "$checks" \
  --max-examples "$max_examples" \
  --max-time "$max_time" \
  --workers 2 \
  --header "Authorization: Bearer $id_token" \
  --request-timeout 10 \
  --generation-database none \
  --no-color \
  ${seed:+--seed "$seed"} \
  --report junit --report-dir "$work/report" || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "the server died during the run:"; cat "$work/server.log"; exit 1
fi
if grep -q 'internal error' "$work/server.log"; then
  log "the server logged internal errors:"; grep 'internal error' "$work/server.log"; status=1
fi
if [ "$status" -ne 0 ]; then
  log "FAILED (schemathesis exit $status)"
  exit "$status"
fi
log "passed"
