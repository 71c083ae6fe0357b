#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already
# there, so it is cheap to run before every build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: clang (ring's C code for wasm), binaryen (wasm-opt),
# wabt (wasm-validate), brotli, Chromium for the browser tests, and
# PostgreSQL.
declare -A package_of=(
  [clang]=clang [wasm-opt]=binaryen [wasm-validate]=wabt [brotli]=brotli [chromium]=chromium
)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
# PostgreSQL, for the server tests on the second backend
# (scripts/with-postgres.sh); its programs are not on PATH.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32v1-none; then
  log "adding the wasm32v1-none target"
  rustup target add wasm32v1-none
fi

# wasm-bindgen-cli must match the crate's pinned wasm-bindgen exactly.
bindgen_version=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# cargo-fuzz for make fuzz and make fuzz-smoke, pinned; it builds with the
# stable toolchain when asked for no sanitizer (-s none). libfuzzer-sys
# compiles libFuzzer with the C++ compiler.
fuzz_version=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$fuzz_version" ]; then
  log "installing cargo-fuzz $fuzz_version"
  cargo install cargo-fuzz --version "$fuzz_version" --locked --force
fi

# curl, for the readiness checks of the scripts that start a server
# (scripts/schemathesis.sh installs schemathesis itself).
command -v curl >/dev/null 2>&1 || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }

# npm ci when node_modules is missing or older than the lock file.
# The Wechaty plugin (plugins/wechaty) has its own: Wechaty stays out of the
# package's tooling.
for dir in . plugins/wechaty; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund
  fi
done
