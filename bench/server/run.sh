#!/usr/bin/env bash
# make bench-server: throughput and latency of the reference server on
# loopback, for code login, refresh with rotation and JWKS, side by side
# for each setup (SQLite; PostgreSQL with one instance, with two) and each
# signing algorithm.
#
# Builds `miniauth` (release) and the load generator (bench/server/load, a
# crate of its own). For each setup and algorithm it starts, on free
# 127.0.0.1 ports, a `miniauth wechat-sim` (WeChat, which every instance
# shares) and the server's instances on a new database with generous rate
# limits, runs the generator against them, and stops them. PostgreSQL is a
# throwaway cluster (scripts/with-postgres.sh, fsync on). At the end it
# prints one table of every run and writes bench/results/server-latest.json.
# Every process it starts is stopped on every exit.
#
# Knobs (environment): BENCH_SETUPS (sqlite,postgres,postgres-x2: a backend
# and, after -x, the number of instances), BENCH_SIGNING_ALGS (RS256,EdDSA;
# also ES256; BENCH_SIGNING_ALG is read as a one-item list), BENCH_DURATION
# (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONCURRENCY (16,64),
# BENCH_SCENARIOS (login,refresh,jwks,room-sync,room-read; jwks, which
# touches neither the database nor the signing key, runs in the first setup
# only, and the room scenarios, which sign nothing, with each setup's first
# algorithm), BENCH_OUT
# (bench/results/server-latest.json), BENCH_DB_DIR (where SQLite files go;
# default $TMPDIR or /tmp, a disk here), BENCH_WRK (1: also load the JWKS
# with wrk as a cross-check, installing Debian's wrk if it is missing; 0:
# not).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

SETUPS=${BENCH_SETUPS:-sqlite,postgres,postgres-x2}
SIGNING_ALGS=${BENCH_SIGNING_ALGS:-${BENCH_SIGNING_ALG:-RS256,EdDSA}}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONCURRENCY=${BENCH_CONCURRENCY:-16,64}
SCENARIOS=${BENCH_SCENARIOS:-login,refresh,jwks,room-sync,room-read}
OUT=${BENCH_OUT:-$ROOT/bench/results/server-latest.json}
DB_DIR=${BENCH_DB_DIR:-${TMPDIR:-/tmp}}
LOAD_TARGET_DIR=$ROOT/target/bench-server-load
SERVER=$ROOT/target/release/miniauth
LOAD=$LOAD_TARGET_DIR/release/miniauth-load
# Far above anything one client address or account reaches in a run, so
# the figures measure the work, not the limiter refusing it.
BIG_LIMIT=1000000000
# What the instances and the simulator agree on: WeChat's side, and the
# one issuer of instances behind one load balancer.
WECHAT_APPID=wx_bench_app
WECHAT_SECRET=bench-secret
ISSUER=http://bench.miniauth.test

say() { printf '[bench-server] %s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "cargo (a Rust toolchain) is required"; exit 1; }

# A PostgreSQL setup runs this script again beside a throwaway cluster.
if [[ ",$SETUPS," == *,postgres* ]] && [ -z "${MINIAUTH_TEST_POSTGRES:-}" ]; then
    say "starting a throwaway PostgreSQL (fsync on) for the postgres setups"
    exec env POSTGRES_FSYNC=on scripts/with-postgres.sh "$0" "$@"
fi

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
# Processes of the current setup (simulator first), and the generator.
PIDS=()
LOAD_PID=
stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "process $pid did not stop on SIGTERM within 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    local status=$?
    if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
        kill -TERM "$LOAD_PID" 2>/dev/null || true
        wait "$LOAD_PID" 2>/dev/null || true
    fi
    stop_all
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. scripts/lib/start-server.sh

# Context that goes into every report.
NPROC=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
DB_FS=$(df -T "$WORK" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 }')
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT="$COMMIT+uncommitted changes"
fi
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT" # a failed run leaves no stale results behind

# run_setup INDEX SETUP ALG SCENARIOS: one generator run; its report goes to
# $WORK/run-INDEX.json. Returns the generator's status (3: errors in a
# timed phase).
run_setup() {
    local index=$1 setup=$2 alg=$3 scenarios=$4
    local backend=${setup%%-x*} instances=1 database durability i
    [[ $setup == *-x* ]] && instances=${setup##*-x}
    case $backend in
        sqlite)
            database=$WORK/bench-$index.db
            durability="SQLite WAL, synchronous=FULL (every commit is fsynced), on $DB_FS"
            ;;
        postgres)
            psql -q "$MINIAUTH_TEST_POSTGRES/postgres" -c "CREATE DATABASE bench_$index"
            database=$MINIAUTH_TEST_POSTGRES/bench_$index
            durability="PostgreSQL $(psql -tA "$MINIAUTH_TEST_POSTGRES/postgres" -c 'SHOW server_version'), fsync on, synchronous_commit $(psql -tA "$MINIAUTH_TEST_POSTGRES/postgres" -c 'SHOW synchronous_commit'), over loopback TCP"
            ;;
        *)
            say "unknown setup $setup (sqlite, postgres, postgres-x2 ...)"
            return 1
            ;;
    esac

    # The room scenarios' bot and API client, added as an operator adds them.
    local bot_key client_secret
    bot_key=$("$SERVER" bots add --name bench --database "$database" | tail -n 1)
    client_secret=$("$SERVER" clients add --name bench --scope rooms:read --database "$database" | tail -n 1)

    # A simulator of its own per run: it caps the codes alive at once.
    start_server "$SERVER" "$WORK/sim-$index.out" "$WORK/sim-$index.err" wechat-sim --appid "$WECHAT_APPID" --secret "$WECHAT_SECRET"
    PIDS+=("$SERVER_PID")
    local sim_url=$SERVER_URL urls=() pids=()
    local args=(serve --database "$database" --signing-alg "$alg" --issuer "$ISSUER"
        --wechat-appid "$WECHAT_APPID" --wechat-secret "$WECHAT_SECRET" --wechat-api "$sim_url"
        --rate-limit-ip "$BIG_LIMIT" --rate-limit-ip-refresh "$BIG_LIMIT" --rate-limit-account "$BIG_LIMIT")
    # One after the other: the first makes the signing key, the others load it.
    for i in $(seq 1 "$instances"); do
        MINIAUTH_LOG=warn start_server "$SERVER" "$WORK/server-$index-$i.out" "$WORK/server-$index-$i.err" "${args[@]}"
        PIDS+=("$SERVER_PID")
        urls+=("$SERVER_URL")
        pids+=("$SERVER_PID")
    done
    say "$setup, $alg: ${#urls[@]} instance(s) at ${urls[*]}, WeChat simulator at $sim_url"

    # In the background with `wait`, so that a signal to this script is
    # acted on at once (bash runs traps only between foreground commands).
    local status
    set +e
    MINIAUTH_BENCH_BOT_KEY=$bot_key MINIAUTH_BENCH_CLIENT_SECRET=$client_secret \
        "$LOAD" --url "$(IFS=,; echo "${urls[*]}")" --wechat-sim "$sim_url" --server-pid "$(IFS=,; echo "${pids[*]}")" \
        --clk-tck "$(getconf CLK_TCK)" \
        --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" --scenarios "$scenarios" \
        --out "$WORK/run-$index.json" --wrk "$WRK" \
        --meta "setup=$setup" \
        --meta "signing_alg=$alg" \
        --meta "instances=$instances" \
        --meta "database=$durability" \
        --meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        --meta "nproc=$NPROC" \
        --meta "cpu_model=$CPU_MODEL" \
        --meta "kernel=$(uname -r)" \
        --meta "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)" \
        --meta "commit=$COMMIT" \
        --meta "rustc=$(rustc --version)" \
        --meta "server_args=${args[*]/$WECHAT_SECRET/…}" &
    LOAD_PID=$!
    wait "$LOAD_PID"
    status=$?
    LOAD_PID=
    set -e

    for i in $(seq 1 "$instances"); do
        local err=$WORK/server-$index-$i.err
        if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
            say "instance $i died during the run; its log:"
            tail -n 50 "$err" >&2
            return 1
        fi
        local warnings
        warnings=$(grep -c -E ' (WARN|ERROR) ' "$err" || true)
        if [ "$warnings" -gt 0 ]; then
            say "instance $i logged $warnings warnings or errors; the last ones:"
            grep -E ' (WARN|ERROR) ' "$err" | tail -n 5 >&2
        fi
    done
    stop_all
    return "$status"
}

STATUS=0
INDEX=0
REPORTS=()
IFS=, read -r -a SETUP_LIST <<<"$SETUPS"
IFS=, read -r -a ALG_LIST <<<"$SIGNING_ALGS"
for setup in "${SETUP_LIST[@]}"; do
    for alg in "${ALG_LIST[@]}"; do
        INDEX=$((INDEX + 1))
        scenarios=$SCENARIOS
        # The JWKS costs the same everywhere: measured once. Rooms sign
        # nothing: measured once per setup, with its first algorithm.
        if [ "$INDEX" -gt 1 ]; then
            scenarios=$(tr , '\n' <<<"$scenarios" | grep -vx jwks | paste -sd, - || true)
        fi
        if [ "$alg" != "${ALG_LIST[0]}" ]; then
            scenarios=$(tr , '\n' <<<"$scenarios" | grep -vx 'room-sync\|room-read' | paste -sd, - || true)
        fi
        [ -n "$scenarios" ] || continue
        set +e
        run_setup "$INDEX" "$setup" "$alg" "$scenarios"
        run_status=$?
        set -e
        # 0: clean; 3: results written, but some timed phase had errors.
        case $run_status in
            0) ;;
            3) STATUS=3 ;;
            *)
                say "the $setup $alg run failed (exit $run_status): no results"
                exit "$run_status"
                ;;
        esac
        REPORTS+=("$WORK/run-$INDEX.json")
    done
done

"$LOAD" --summarize "${REPORTS[@]}" --out "$OUT"

cat <<EOF

Context: $NPROC vCPUs ($CPU_MODEL), shared by the server's instances,
PostgreSQL, the WeChat simulator AND the load generator (see 'gen cores'
and 'other cores': PostgreSQL and the simulator are 'other'); every commit
is fsynced. 'rps/srvcore' = rps / the instances' own CPU-seconds per
second, an estimate of what one core does when the server has it.
Keycloak's sizing guide quotes ~120 refresh-token requests/s per vCPU,
measured on separate machines with TLS, PostgreSQL over the network and a
far larger token model: an order-of-magnitude reference, not a
like-for-like comparison.
Results: ${OUT#"$ROOT/"}
EOF
exit "$STATUS"
