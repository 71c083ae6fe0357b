#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster: created in a
# temporary directory, listening on a loopback port only (its socket in that
# directory), run as the postgres user when started as root (PostgreSQL
# refuses root), stopped and removed when the command ends. The command sees
# MINIAUTH_TEST_POSTGRES=postgres://miniauth@127.0.0.1:PORT (trust
# authentication, no password), on which the server tests create one
# database per test server.
#
#   scripts/with-postgres.sh cargo test --features server --test 'server_*'
set -euo pipefail

log() { printf 'with-postgres.sh: %s\n' "$*" >&2; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { log "PostgreSQL is not installed (scripts/setup.sh installs it)"; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/miniauth-postgres.XXXXXX")
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_owner() { runuser -u postgres -- "$@"; }
fi
stop() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" -U miniauth --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# Durability is not what the tests measure: fsync off keeps them fast. The
# benchmark sets POSTGRES_FSYNC=on, as a deployment has it.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${POSTGRES_FSYNC:-off} -c max_connections=300" start \
  || { cat "$dir/server.log" >&2; exit 1; }
log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

export MINIAUTH_TEST_POSTGRES="postgres://miniauth@127.0.0.1:$port"
"$@"
