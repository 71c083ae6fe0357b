#!/usr/bin/env bash
# make bench-server: throughput and latency of the reference server on
# loopback, for code login, refresh with rotation and JWKS.
#
# Builds `miniauth` (release) and the load generator (bench/server/load, a
# crate of its own), starts the server in simulator mode on a free
# 127.0.0.1 port with a temporary database and generous rate limits, runs
# the generator against it, prints a table and writes
# bench/results/server-latest.json. The server is stopped on every exit.
#
# Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3),
# BENCH_CONCURRENCY (16,64), BENCH_SCENARIOS (login,refresh,jwks),
# BENCH_OUT (bench/results/server-latest.json), BENCH_DB_DIR (where the
# temporary database goes; default $TMPDIR or /tmp, a disk here), BENCH_WRK
# (1: also load the JWKS with wrk as a cross-check, installing Debian's wrk
# if it is missing; 0: not), BENCH_SIGNING_ALG (RS256, or ES256 / EdDSA to
# see what the signature costs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONCURRENCY=${BENCH_CONCURRENCY:-16,64}
SCENARIOS=${BENCH_SCENARIOS:-login,refresh,jwks}
OUT=${BENCH_OUT:-$ROOT/bench/results/server-latest.json}
DB_DIR=${BENCH_DB_DIR:-${TMPDIR:-/tmp}}
SIGNING_ALG=${BENCH_SIGNING_ALG:-RS256}
LOAD_TARGET_DIR=$ROOT/target/bench-server-load
SERVER=$ROOT/target/release/miniauth
LOAD=$LOAD_TARGET_DIR/release/miniauth-load
# Far above anything one client address or account reaches in a run, so
# the figures measure the work, not the limiter refusing it.
BIG_LIMIT=1000000000

say() { printf '[bench-server] %s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "cargo (a Rust toolchain) is required"; exit 1; }

say "building miniauth (release, feature server)"
cargo build --release --features server --bin miniauth

say "building the load generator (bench/server/load)"
# Its Cargo.lock pins what the main crate's lock already holds, so this
# builds offline from cargo's cache; online only if something is missing.
(
    cd bench/server/load
    CARGO_TARGET_DIR=$LOAD_TARGET_DIR cargo build --release --locked --offline --quiet 2>/dev/null ||
        CARGO_TARGET_DIR=$LOAD_TARGET_DIR cargo build --release --locked
)

# wrk, for the JWKS cross-check only (login and refresh need per-request
# state that only the generator keeps: fresh codes, rotated tokens).
WRK=
if [ "${BENCH_WRK:-1}" != 0 ] && [[ ",$SCENARIOS," == *,jwks,* ]]; then
    if ! command -v wrk >/dev/null; then
        say "installing wrk (Debian package) for the JWKS cross-check"
        as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
        if command -v apt-get >/dev/null; then
            { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null 2>&1 ||
                say "could not install wrk: the JWKS cross-check is skipped"
        else
            say "no wrk and no apt-get: the JWKS cross-check is skipped"
        fi
    fi
    WRK=$(command -v wrk || true)
fi

WORK=$(mktemp -d "$DB_DIR/miniauth-bench.XXXXXX")
SERVER_PID=
LOAD_PID=
cleanup() {
    local status=$?
    if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
        kill -TERM "$LOAD_PID" 2>/dev/null || true
        wait "$LOAD_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            say "server $SERVER_PID did not stop on SIGTERM within 10 s; killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Simulator mode (no WeChat AppID); start_server keeps the caller's
# environment from changing the server's settings.
. scripts/lib/start-server.sh
SERVER_ARGS=(serve --simulator --database "$WORK/bench.db" --signing-alg "$SIGNING_ALG"
    --rate-limit-ip "$BIG_LIMIT" --rate-limit-account "$BIG_LIMIT")
say "starting: miniauth ${SERVER_ARGS[*]} --listen 127.0.0.1:0"
MINIAUTH_LOG=warn start_server "$SERVER" "$WORK/server.out" "$WORK/server.err" "${SERVER_ARGS[@]}" || exit 1
URL=$SERVER_URL
say "server pid $SERVER_PID at $URL, database $WORK/bench.db"

# Context that goes into the report.
NPROC=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
DB_FS=$(df -T "$WORK" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 }')
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT="$COMMIT+uncommitted changes"
fi
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT" # a failed run leaves no stale results behind

# In the background with `wait`, so that a signal to this script is acted
# on at once (bash runs traps only between foreground commands).
set +e
"$LOAD" --url "$URL" --server-pid "$SERVER_PID" --clk-tck "$(getconf CLK_TCK)" \
    --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --scenarios "$SCENARIOS" \
    --out "$OUT" --wrk "$WRK" \
    --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --meta "nproc=$NPROC" \
    --meta "cpu_model=$CPU_MODEL" \
    --meta "kernel=$(uname -r)" \
    --meta "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)" \
    --meta "database_fs=$DB_FS" \
    --meta "commit=$COMMIT" \
    --meta "rustc=$(rustc --version)" \
    --meta "server_args=${SERVER_ARGS[*]}" \
    --meta "sqlite=WAL, synchronous=FULL (every commit is fsynced), sqlx pool of 8" &
LOAD_PID=$!
wait "$LOAD_PID"
LOAD_STATUS=$?
LOAD_PID=
set -e

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    say "the server died during the run; its log:"
    tail -n 50 "$WORK/server.err" >&2
    exit 1
fi
WARNINGS=$(grep -c -E ' (WARN|ERROR) ' "$WORK/server.err" || true)
if [ "$WARNINGS" -gt 0 ]; then
    say "the server logged $WARNINGS warnings or errors; the last ones:"
    grep -E ' (WARN|ERROR) ' "$WORK/server.err" | tail -n 5 >&2
fi

# 0: clean; 3: results written, but some timed phase had errors.
if [ "$LOAD_STATUS" != 0 ] && [ "$LOAD_STATUS" != 3 ]; then
    say "the load generator failed (exit $LOAD_STATUS): no results"
    exit "$LOAD_STATUS"
fi

cat <<EOF

Context: $NPROC vCPUs ($CPU_MODEL), shared by the server AND the load
generator (see 'gen cores'); the database is on $DB_FS with fsync on every
commit. 'rps/srvcore' = rps / the server's own CPU-seconds per second, an
estimate of what one core does when the server has it. Keycloak's sizing
guide quotes ~120 refresh-token requests/s per vCPU, measured on separate
machines with TLS, PostgreSQL over the network and a far larger token
model: an order-of-magnitude reference, not a like-for-like comparison.
Results: ${OUT#"$ROOT/"}
EOF
exit "$LOAD_STATUS"
