# Sourced by the scripts that need a running server (scripts/schemathesis.sh,
# bench/server/run.sh, scripts/demo.sh): one way to start one.
#
#   start_server BINARY OUT ERR serve --simulator --database DB [more flags...]
#   start_server BINARY OUT ERR wechat-sim --secret S
#
# Starts BINARY with the given arguments plus `--listen 127.0.0.1:0` in the
# background, with no WECHAT_* or MINIAUTH_* variable from the caller's
# environment except MINIAUTH_LOG (so simulator mode and the defaults hold),
# stdout to OUT and stderr to ERR, and returns once the server prints the
# address it listens on (it accepts connections from then on; `serve` and
# `wechat-sim` both print it). Sets
# SERVER_PID and SERVER_URL; fails, showing ERR, if the server exits first or
# prints no address within 30 s.
start_server() {
  local binary=$1 out=$2 err=$3
  shift 3
  local -a clean_env=()
  local var
  for var in $(env | sed -n 's/^\(MINIAUTH_[A-Z0-9_]*\|WECHAT_[A-Z0-9_]*\)=.*/\1/p'); do
    [ "$var" = MINIAUTH_LOG ] || clean_env+=(-u "$var")
  done
  env "${clean_env[@]}" "$binary" "$@" --listen 127.0.0.1:0 >"$out" 2>"$err" &
  SERVER_PID=$!
  await_server "$SERVER_PID" "$out" || { cat "$err" >&2; return 1; }
}

# await_server PID OUT: returns once the server PID has written the address
# it listens on into OUT, its stdout, and sets SERVER_URL; fails if the
# server exits first or prints no address within 30 s.
await_server() {
  local pid=$1 out=$2 _
  SERVER_URL=
  for _ in $(seq 1 300); do
    SERVER_URL=$(sed -n 's/^\(miniauth\|WeChat simulator\) listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\2/p' "$out")
    [ -n "$SERVER_URL" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      printf 'the server exited before listening\n' >&2
      return 1
    fi
    sleep 0.1
  done
  printf 'the server printed no address within 30 s\n' >&2
  return 1
}
