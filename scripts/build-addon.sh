#!/usr/bin/env bash
# Builds the native Node addon (bindings/node) for this machine into
# target/addon-out/miniauth.<platform>.node, named as js/node/backend.js
# looks for it (napi-rs's platform names: linux-x64-gnu, darwin-arm64, …).
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
  x86_64-*) arch=x64 ;;
  aarch64-*) arch=arm64 ;;
  *) echo "build-addon: no Node platform name for $host" >&2; exit 1 ;;
esac
case "$host" in
  *-linux-gnu) platform="linux-$arch-gnu" ;;
  *-linux-musl) platform="linux-$arch-musl" ;;
  *-apple-darwin) platform="darwin-$arch" ;;
  *-windows-msvc) platform="win32-$arch-msvc" ;;
  *) echo "build-addon: no Node platform name for $host" >&2; exit 1 ;;
esac

cargo build -p miniauth-node --profile addon
out=target/addon-out
rm -rf "$out" && mkdir -p "$out"
case "$host" in
  *-apple-darwin) library=target/addon/libminiauth_node.dylib ;;
  *-windows-msvc) library=target/addon/miniauth_node.dll ;;
  *) library=target/addon/libminiauth_node.so ;;
esac
cp "$library" "$out/miniauth.$platform.node"
echo "addon: $out/miniauth.$platform.node ($(wc -c < "$out/miniauth.$platform.node") bytes)"
