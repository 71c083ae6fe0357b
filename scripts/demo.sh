#!/usr/bin/env bash
# The playground: the reference server in WeChat-simulator mode with its
# embedded SQLite database, serving the playground page (playground/) and the
# built npm package (pkg/) at /playground/. `make demo` builds the package
# first and then runs this; Ctrl-C stops it.
#
# Settings (environment):
#   DEMO_PORT          port on 127.0.0.1 (default 8787; a free one if taken
#                      or 0)
#   DEMO_DIR           where the database goes (default target/demo; emptied on start)
#   DEMO_REGISTRATION  open (new WeChat users get USER_REGISTER, the default)
#                      or closed (SOCIAL_BIND: bind to an existing user)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'demo: %s\n' "$*"; }

port=${DEMO_PORT:-8787}
dir=${DEMO_DIR:-target/demo}
registration=${DEMO_REGISTRATION:-open}
server=target/debug/miniauth
database=$dir/miniauth.db

if [ ! -f pkg/web/index.js ] || [ ! -f pkg/miniauth_bg.wasm ]; then
  log "the npm package is not built: building it (make pkg)"
  make --no-print-directory pkg
fi

log "building the server"
cargo build --quiet --features server --bin miniauth

# The port, or any free one (port 0: the server picks) when it is taken.
port_is_free() { node -e "const s=require('net').createServer();s.once('error',()=>process.exit(1));s.listen($1,'127.0.0.1',()=>s.close())"; }
if ! port_is_free "$port"; then
  log "port $port is taken: using a free one"
  port=0
fi

# Settings from the environment would take the server out of simulator mode
# or away from the playground's defaults.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(MINIAUTH_|WECHAT_)' || true)

# A fresh database each time, with one existing user: o_alice (the
# playground's default WeChat user) signs in as it at once; other WeChat
# users can bind to it by password (SOCIAL_BIND) or by its phone number or
# email address.
mkdir -p "$dir"
rm -f "$database" "$database-wal" "$database-shm"
printf 'demo-password\n' | "$server" users add --database "$database" --username demo --password-stdin \
  --name "Demo User" --phone 13800000000 --email demo@example.com --wechat-openid o_alice >/dev/null

# The server's stdout goes to the terminal and to a file (there before the
# server starts), where await_server reads the address it listens on. tee
# ignores Ctrl-C and ends when the server does, after its last line.
. scripts/lib/start-server.sh
: >"$dir/server.out"
"$server" serve --simulator --listen "127.0.0.1:$port" --database "$database" --registration "$registration" \
  --id-token-ttl 120 --playground playground --playground-pkg pkg > >(trap '' INT TERM; exec tee "$dir/server.out") &
pid=$!

stop() {
  trap - INT TERM EXIT
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  log "stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

await_server "$pid" "$dir/server.out" || exit 1
url=$SERVER_URL

cat <<TEXT

  miniauth playground: $url/playground/

  WeChat simulator mode, registration $registration, id_tokens live 120 s
  (refreshed 60 s before expiry). Database: $database (fresh each run);
  existing user: demo / demo-password, phone 13800000000, demo@example.com.

  Ctrl-C to stop.

TEXT
wait "$pid"
