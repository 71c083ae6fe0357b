#!/usr/bin/env bash
# The two rules WeChat on iOS imposes on a module: WebAssembly MVP only
# (wabt's validator with every post-MVP feature off; `wasm-opt
# --mvp-features` trusts the module's own feature section and is no check),
# and no exported Global.
set -euo pipefail
wasm="$1"
wasm-validate --disable-reference-types --disable-multi-value --disable-bulk-memory \
  --disable-sign-extension --disable-saturating-float-to-int --disable-mutable-globals "$wasm"
globals=$(node "$(dirname "$0")/wasm-exports.mjs" list "$wasm" | awk '$1 == "global"')
if [ -n "$globals" ]; then
  echo "error: $wasm exports a Global, which WeChat on iOS refuses:" >&2
  echo "$globals" >&2
  exit 1
fi
echo "$wasm: WebAssembly MVP, no Global export, $(wc -c < "$wasm") bytes"
